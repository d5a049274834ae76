//! Secrets come from the environment or from files the environment names — never from the
//! desired-state repository. `Secret` keeps them out of logs and errors: it prints as
//! `[redacted]`, and the only way to the value is an explicit `expose()`.

use std::fmt;
use std::path::PathBuf;

/// Why the credentials in the environment cannot be used. Never holds a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{variable} names {}, which cannot be read: {source}", .path.display())]
    Unreadable {
        variable: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{variable} names {}, which is empty", .path.display())]
    Empty { variable: String, path: PathBuf },
    /// A variable that is set but cannot be what it names (a non-numeric id, a missing half).
    #[error("{0}")]
    Invalid(&'static str),
    /// A token that cannot go into an HTTP header: where the offending character is, never what
    /// the token is.
    #[error(
        "{origin} holds a token with {problem} at line {line}, column {column}; a token is one line of visible characters: {fix}"
    )]
    MalformedToken {
        /// The variable, or the variable and the file it names.
        origin: String,
        problem: &'static str,
        line: usize,
        column: usize,
        fix: &'static str,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Reads `NAME` from the environment, or the file named by `NAME_FILE` (trimmed). `Ok(None)`
/// when neither is set; an error (naming the variable and file, never the content) when the
/// file cannot be read or is empty.
pub fn from_env(name: &str) -> Result<Option<Secret>, CredentialError> {
    from_lookup(name, |key| std::env::var(key).ok())
}

/// `from_env` with the environment passed in, for tests.
pub fn from_lookup(
    name: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, CredentialError> {
    if let Some(value) = lookup(name).filter(|v| !v.trim().is_empty()) {
        return Ok(Some(Secret::new(value.trim())));
    }
    let file_var = format!("{name}_FILE");
    let Some(path) = lookup(&file_var).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(path);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(source) => {
            return Err(CredentialError::Unreadable {
                variable: file_var,
                path,
                source,
            });
        }
    };
    let value = text.trim();
    if value.is_empty() {
        return Err(CredentialError::Empty {
            variable: file_var,
            path,
        });
    }
    Ok(Some(Secret::new(value)))
}

/// A token (`GITHUB_TOKEN`, `AWX_TOKEN`) from `NAME` or `NAME_FILE`, as [`from_env`] reads
/// it, and checked to be one line of visible ASCII: it goes into an `Authorization` header,
/// where a line break or control character would be refused (or worse, split the header).
pub fn token_from_env(name: &str) -> Result<Option<Secret>, CredentialError> {
    token_from_lookup(name, |key| std::env::var(key).ok())
}

/// `token_from_env` with the environment passed in, for tests.
pub fn token_from_lookup(
    name: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, CredentialError> {
    let Some(token) = from_lookup(name, &lookup)? else {
        return Ok(None);
    };
    let Some((at, c)) = token
        .expose()
        .char_indices()
        .find(|&(_, c)| !c.is_ascii_graphic())
    else {
        return Ok(Some(token));
    };
    let direct = lookup(name).is_some_and(|v| !v.trim().is_empty());
    let origin = match lookup(&format!("{name}_FILE")) {
        Some(path) if !direct => format!("{name}_FILE ({path})"),
        _ => name.to_string(),
    };
    let before = token.expose().get(..at).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    let (problem, fix) = match c {
        '\n' | '\r' => (
            "a line break",
            "keep only the token's own line in the file (no comments or other lines)",
        ),
        ' ' | '\t' => (
            "a space",
            "set the token alone, without a prefix such as `token ` or `Bearer `",
        ),
        c if c.is_control() => ("a control character", "remove it"),
        _ => (
            "a character that is not ASCII",
            "check the token was copied whole and unchanged",
        ),
    };
    Err(CredentialError::MalformedToken {
        origin,
        problem,
        line,
        column,
        fix,
    })
}

/// How stackrel authenticates to GitHub.
#[derive(Debug, Clone)]
pub enum GithubAuth {
    /// `GITHUB_TOKEN` (or `GITHUB_TOKEN_FILE`): a personal access token, or an installation
    /// token some App made.
    Token(Secret),
    /// The GitHub Actions workflow's own `GITHUB_TOKEN`, as stackrel's action says
    /// (`STACKREL_TOKEN_IS_ACTIONS_TOKEN=true`): its prefix (`ghs_`) is every installation
    /// token's, so only the workflow can tell.
    ActionsToken(Secret),
    /// `GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY_FILE` (PEM); the installation is looked up from
    /// the stack repository unless `GITHUB_APP_INSTALLATION_ID` is set.
    App {
        app_id: u64,
        private_key: Secret,
        installation_id: Option<u64>,
    },
}

impl GithubAuth {
    /// The credentials the environment provides, if any.
    pub fn from_env() -> Result<Option<GithubAuth>, CredentialError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<GithubAuth>, CredentialError> {
        if let Some(app_id) = lookup("GITHUB_APP_ID").filter(|v| !v.is_empty()) {
            let app_id = app_id.trim().parse().map_err(|_| {
                CredentialError::Invalid("GITHUB_APP_ID must be the App's numeric id")
            })?;
            let private_key = from_lookup("GITHUB_APP_PRIVATE_KEY", &lookup)?.ok_or(
                CredentialError::Invalid(
                    "GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY_FILE is not: name the App's PEM private key file",
                ),
            )?;
            let installation_id =
                match lookup("GITHUB_APP_INSTALLATION_ID").filter(|v| !v.is_empty()) {
                    Some(id) => Some(id.trim().parse().map_err(|_| {
                        CredentialError::Invalid("GITHUB_APP_INSTALLATION_ID must be numeric")
                    })?),
                    None => None,
                };
            return Ok(Some(GithubAuth::App {
                app_id,
                private_key,
                installation_id,
            }));
        }
        let actions = lookup("STACKREL_TOKEN_IS_ACTIONS_TOKEN").is_some_and(|v| v.trim() == "true");
        let token = token_from_lookup("GITHUB_TOKEN", &lookup)?;
        Ok(token.map(|t| match actions {
            true => GithubAuth::ActionsToken(t),
            false => GithubAuth::Token(t),
        }))
    }
}

/// What the release ticket needs of the GitHub credentials, and what the preflight found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketAccess {
    /// Issues on `ticket.repo` (open the ticket, comment, label, assign): `None` when the
    /// repository cannot even be read.
    Issues { repo: String, write: Option<bool> },
    /// The project board: found with its column, or why not. `scopes` are a classic token's
    /// (`x-oauth-scopes`); other credentials do not say.
    Board {
        board: String,
        found: Result<(), String>,
        scopes: Option<Vec<String>>,
    },
    /// An assignee GitHub will not take.
    Assignee(String),
    /// A permission the App's installation lacks for the ticket, and how to grant it.
    AppLacks(crate::forge::github_access::MissingAppPermission),
    /// The App's installation could not be asked for its permissions.
    Unasked(String),
}

impl TicketAccess {
    /// One line of the preflight: what the credentials can do, or what is missing and how to
    /// get it.
    pub fn line(&self) -> String {
        match self {
            TicketAccess::Issues { repo, write: None } => format!(
                "github: cannot read {repo} (`ticket.repo`): not found, or the credentials have no access; release tickets need Issues: read and write there"
            ),
            TicketAccess::Issues {
                repo,
                write: Some(true),
            } => {
                format!("github: can write issues on {repo} (release tickets)")
            }
            TicketAccess::Issues {
                repo,
                write: Some(false),
            } => format!(
                "github: cannot write issues on {repo}: release tickets need Issues: read and write there (a fine-grained token or the App: Issues read and write; a classic token: the `repo` scope and triage access)"
            ),
            TicketAccess::Board {
                found: Err(why), ..
            } => format!("github: {why}"),
            TicketAccess::Board {
                board,
                scopes: Some(scopes),
                ..
            } if !scopes.iter().any(|s| s == "project") => {
                format!(
                    "github: can read project {board}, but the classic token lacks the `project` scope it needs to add the ticket and move it (it has: {})",
                    if scopes.is_empty() {
                        "none".to_string()
                    } else {
                        scopes.join(", ")
                    }
                )
            }
            TicketAccess::Board { board, .. } => {
                format!("github: can see project {board} and the ticket's column")
            }
            TicketAccess::Assignee(why) => format!("github: {why}"),
            TicketAccess::AppLacks(missing) => format!("github: {missing}"),
            TicketAccess::Unasked(why) => format!(
                "github: could not read the App installation's permissions for the release ticket: {why}"
            ),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An environment of these pairs, for the `from_lookup` functions.
    pub(crate) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("ghp_supersecret");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
    }

    #[test]
    fn token_from_variable_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        let direct = from_lookup("T", env(&[("T", "direct")])).unwrap().unwrap();
        assert_eq!(direct.expose(), "direct");
        let path = file.to_string_lossy().into_owned();
        let via_file = from_lookup("T", env(&[("T_FILE", &path)]))
            .unwrap()
            .unwrap();
        assert_eq!(via_file.expose(), "from-file");
        assert!(from_lookup("T", env(&[])).unwrap().is_none());
    }

    #[test]
    fn unreadable_token_file_names_the_variable_not_the_secret() {
        let err = from_lookup("T", env(&[("T_FILE", "/no/such/file")])).unwrap_err();
        assert!(matches!(err, CredentialError::Unreadable { .. }), "{err}");
        let err = err.to_string();
        assert!(err.contains("T_FILE names /no/such/file"), "{err}");
    }

    #[test]
    fn a_token_file_with_a_comment_line_is_refused_saying_where_not_what() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "ghp_s3cretvalue\n# rotated 2026-08\n").unwrap();
        let path = file.to_string_lossy().into_owned();
        let err = GithubAuth::from_lookup(env(&[("GITHUB_TOKEN_FILE", &path)])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("GITHUB_TOKEN_FILE ({path})"))
                && text.contains("a line break at line 1, column 16")
                && text.contains("no comments"),
            "{text}"
        );
        assert!(
            !text.contains("s3cret") && !text.contains("rotated"),
            "{text}"
        );
    }

    #[test]
    fn tokens_with_spaces_controls_or_non_ascii_are_refused_without_printing_them() {
        for (value, problem) in [
            ("token ghp_abc", "a space"),
            ("ghp_a\u{7}bc", "a control character"),
            ("ghp_a\u{00e9}bc", "not ASCII"),
            ("ghp_a\rbc", "a line break"),
        ] {
            let err = token_from_lookup("AWX_TOKEN", env(&[("AWX_TOKEN", value)]))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("AWX_TOKEN holds a token with"), "{err}");
            assert!(err.contains(problem), "{value:?}: {err}");
            assert!(!err.contains("abc") && !err.contains("bc;"), "{err}");
        }
        let ok = token_from_lookup("AWX_TOKEN", env(&[("AWX_TOKEN", " ok-Token_1.2 \n")]));
        assert_eq!(ok.unwrap().unwrap().expose(), "ok-Token_1.2");
    }

    #[test]
    fn a_classic_token_without_the_project_scope_is_told_what_it_lacks() {
        let line = TicketAccess::Board {
            board: "m2ms/2".into(),
            found: Ok(()),
            scopes: Some(vec!["repo".into(), "read:project".into()]),
        }
        .line();
        assert!(line.contains("lacks the `project` scope"), "{line}");
        assert!(line.contains("repo, read:project"), "{line}");
        let fine = TicketAccess::Board {
            board: "m2ms/2".into(),
            found: Ok(()),
            scopes: None,
        };
        assert!(fine.line().contains("can see project m2ms/2"));
    }

    #[test]
    fn the_workflow_says_when_the_token_is_its_own() {
        let token = [("GITHUB_TOKEN", "ghs_abc")];
        let own = [
            ("GITHUB_TOKEN", "ghs_abc"),
            ("STACKREL_TOKEN_IS_ACTIONS_TOKEN", "true"),
        ];
        assert!(matches!(
            GithubAuth::from_lookup(env(&token)),
            Ok(Some(GithubAuth::Token(_)))
        ));
        assert!(matches!(
            GithubAuth::from_lookup(env(&own)),
            Ok(Some(GithubAuth::ActionsToken(_)))
        ));
    }

    #[test]
    fn app_needs_a_private_key() {
        let err = GithubAuth::from_lookup(env(&[("GITHUB_APP_ID", "12")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("GITHUB_APP_PRIVATE_KEY_FILE"), "{err}");
    }
}
