//! The `WWW-Authenticate` header a registry answers `401` with (RFC 9110 §11.6.1): which scheme
//! it wants, and for a token registry where to get the token. Docker Hub says
//! `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"`; an
//! htpasswd registry says `Basic realm="…"`. Parsed here, on its own, because the header comes
//! from the network and every malformed shape must be an error, never a panic.

use std::collections::BTreeMap;

/// One challenge: the scheme, lowercased, and its parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("the header is empty")]
    Empty,
    #[error("expected an authentication scheme at character {0}")]
    Scheme(usize),
    #[error("a quoted value is not closed")]
    Unterminated,
    #[error("unexpected `{found}` at character {at}")]
    Unexpected { found: char, at: usize },
}

/// Every challenge in a header value, in order.
pub fn parse(header: &str) -> Result<Vec<Challenge>, ChallengeError> {
    let mut cursor = Cursor {
        chars: header.chars().collect(),
        at: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip_separators();
        if cursor.done() {
            break;
        }
        let scheme = cursor.token();
        if scheme.is_empty() {
            return Err(ChallengeError::Scheme(cursor.at));
        }
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: BTreeMap::new(),
        };
        cursor.params(&mut challenge.params)?;
        challenges.push(challenge);
    }
    if challenges.is_empty() {
        return Err(ChallengeError::Empty);
    }
    Ok(challenges)
}

struct Cursor {
    chars: Vec<char>,
    at: usize,
}

/// RFC 9110 `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

impl Cursor {
    fn done(&self) -> bool {
        self.at >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.at += 1;
        }
    }

    fn skip_separators(&mut self) {
        while self
            .peek()
            .is_some_and(|c| c == ' ' || c == '\t' || c == ',')
        {
            self.at += 1;
        }
    }

    fn token(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(is_token_char) {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    /// `name=value` pairs after a scheme, up to the next challenge (a token not followed by
    /// `=`) or the end. A token68 (`Basic abc==`) is kept under the empty name.
    fn params(&mut self, params: &mut BTreeMap<String, String>) -> Result<(), ChallengeError> {
        loop {
            self.skip_separators();
            let start = self.at;
            let name = self.token();
            if name.is_empty() {
                return match self.peek() {
                    None => Ok(()),
                    Some(found) => Err(ChallengeError::Unexpected { found, at: self.at }),
                };
            }
            self.skip_spaces();
            if self.peek() != Some('=') {
                // The next challenge's scheme: give it back.
                self.at = start;
                return Ok(());
            }
            self.at += 1;
            if self.peek() == Some('=') || self.peek().is_none_or(|c| c == ',') {
                // token68: `abc==`, all of it one value.
                while self.peek() == Some('=') {
                    self.at += 1;
                }
                params.insert(String::new(), self.chars[start..self.at].iter().collect());
                continue;
            }
            self.skip_spaces();
            let value = self.value()?;
            params.insert(name.to_ascii_lowercase(), value);
        }
    }

    fn value(&mut self) -> Result<String, ChallengeError> {
        if self.peek() != Some('"') {
            return Ok(self.token());
        }
        self.at += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(ChallengeError::Unterminated),
                Some('"') => {
                    self.at += 1;
                    return Ok(value);
                }
                Some('\\') => {
                    self.at += 1;
                    let escaped = self.peek().ok_or(ChallengeError::Unterminated)?;
                    value.push(escaped);
                    self.at += 1;
                }
                Some(c) => {
                    value.push(c);
                    self.at += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(header: &str) -> Challenge {
        let mut all = parse(header).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    #[test]
    fn docker_hub_bearer_challenge() {
        let c = one(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c.param("service"), Some("registry.docker.io"));
        assert_eq!(c.param("scope"), Some("repository:library/alpine:pull"));
    }

    #[test]
    fn basic_challenge_spaces_case_and_escapes() {
        let c = one(r#"BASIC  Realm = "basic \"realm\"" , charset=UTF-8"#);
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.param("realm"), Some(r#"basic "realm""#));
        assert_eq!(c.param("charset"), Some("UTF-8"));
        assert_eq!(one("Basic").params.len(), 0);
    }

    #[test]
    fn several_challenges_in_one_header() {
        let all = parse(r#"Basic realm="a", Bearer realm="https://x/token",service=x"#).unwrap();
        assert_eq!(
            all.iter().map(|c| c.scheme.as_str()).collect::<Vec<_>>(),
            ["basic", "bearer"]
        );
        assert_eq!(all[1].param("service"), Some("x"));
        let token68 = parse("Negotiate abc==, Basic realm=r").unwrap();
        assert_eq!(token68[0].param(""), Some("abc=="));
        assert_eq!(token68[1].param("realm"), Some("r"));
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        assert_eq!(parse(""), Err(ChallengeError::Empty));
        assert_eq!(parse(" , "), Err(ChallengeError::Empty));
        assert_eq!(
            parse(r#"Bearer realm="open"#),
            Err(ChallengeError::Unterminated)
        );
        assert_eq!(
            parse(r#"Bearer realm="x\"#),
            Err(ChallengeError::Unterminated)
        );
        assert!(matches!(parse("=x"), Err(ChallengeError::Scheme(0))));
        assert!(matches!(
            parse(r#"Bearer realm="x" ; y"#),
            Err(ChallengeError::Unexpected { found: ';', .. })
        ));
        for garbage in ["\"", "Bearer \"", "Bearer a=\"\\", "\u{0}", "Bearer a=,=,="] {
            let _ = parse(garbage);
        }
    }
}
