//! Text that others wrote — commit authors and messages, a deploy command's output, a release
//! file's name — made safe to print on a terminal. Raw, an escape sequence in it can recolour,
//! retitle or clear the screen, move the cursor to overwrite what stackrel printed (a "✓" over a
//! failure), or, on some terminals, answer back as typed input. Every control character (C0,
//! DEL, C1) and the bidirectional-override characters that reorder what is shown are printed as
//! visible escapes instead, so what is on the screen is exactly what is in the data.

use std::borrow::Cow;
use std::fmt::Write;

/// One line of text: line breaks and tabs are escaped too.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// Text of several lines: line breaks are kept, everything else escaped as [`line`] does.
pub fn text(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if keep(c) || !is_unsafe(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// Control characters, and the characters that reorder or hide text in a terminal's display.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_printed_visibly() {
        assert_eq!(
            line("\u{1b}]0;pwned\u{7}\u{1b}[2J evil"),
            "\\x1b]0;pwned\\x07\\x1b[2J evil"
        );
        assert_eq!(line("a\u{9b}31mb\u{7f}"), "a\\u{009b}31mb\\x7f");
        assert_eq!(line("x\r\u{1b}[1A✓ ok"), "x\\r\\x1b[1A✓ ok");
        assert_eq!(line("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
    }

    #[test]
    fn ordinary_text_is_left_alone_and_text_keeps_its_line_breaks() {
        assert!(matches!(line("Élodie: fix the RHS"), Cow::Borrowed(_)));
        assert_eq!(text("one\ntwo\t\u{1b}[0m"), "one\ntwo\\t\\x1b[0m");
        assert_eq!(line("one\ntwo"), "one\\ntwo");
    }
}
