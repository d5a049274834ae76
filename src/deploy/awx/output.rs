//! What of a job's output goes into an error: its last lines, read from a stream that may be
//! many megabytes (AWX's `txt_download` is the whole output), in bounded memory.

use std::collections::VecDeque;
use std::io::Read;

/// AWX answers this, with status 200, instead of output over `STDOUT_MAX_BYTES_DISPLAY` (1 MiB)
/// in every format but the downloads (`awx/api/views/__init__.py`, `UnifiedJobStdout`).
const TOO_LARGE: &str = "Standard Output too large to display";
/// A line longer than this is cut: enough for an Ansible `FAILED! => {...}` message.
const MAX_LINE_CHARS: usize = 500;
/// A line's bytes kept while reading it, before it is cut to `MAX_LINE_CHARS`.
const MAX_LINE_BYTES: usize = MAX_LINE_CHARS * 4;

/// Whether AWX answered its "too large to display" message instead of the output.
pub fn is_too_large(text: &str) -> bool {
    text.trim_start().starts_with(TOO_LARGE)
}

/// The last `keep` non-blank lines of `reader`, without terminal escapes, each at most
/// `MAX_LINE_CHARS` long. Memory is bounded by `keep` lines whatever the stream's length.
pub fn tail<R: Read>(mut reader: R, keep: usize) -> std::io::Result<String> {
    let mut lines: VecDeque<String> = VecDeque::with_capacity(keep + 1);
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    let mut buffer = [0u8; 8192];
    let mut finish = |line: &mut Vec<u8>, cut: &mut bool| {
        let text = clean(line, *cut);
        line.clear();
        *cut = false;
        if !text.trim().is_empty() {
            lines.push_back(text);
            if lines.len() > keep {
                lines.pop_front();
            }
        }
    };
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                finish(&mut line, &mut cut);
            } else if line.len() < MAX_LINE_BYTES {
                line.push(byte);
            } else {
                cut = true;
            }
        }
    }
    finish(&mut line, &mut cut);
    Ok(lines.into_iter().collect::<Vec<_>>().join("\n"))
}

fn clean(bytes: &[u8], cut: bool) -> String {
    let text = strip_escapes(&String::from_utf8_lossy(bytes));
    let text = text.trim_end_matches('\r');
    if cut || text.chars().count() > MAX_LINE_CHARS {
        let kept: String = text.chars().take(MAX_LINE_CHARS).collect();
        format!("{kept}…")
    } else {
        text.to_string()
    }
}

/// Drops ANSI escape sequences (`ESC [ … final`), as AWX's `txt` format does for colours.
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, up to the final byte (@ to ~).
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_non_blank_lines() {
        let text = "one\n\ntwo\nthree\n\n   \nfour\n";
        assert_eq!(tail(text.as_bytes(), 2).unwrap(), "three\nfour");
        assert_eq!(tail("".as_bytes(), 2).unwrap(), "");
        assert_eq!(tail("no newline".as_bytes(), 2).unwrap(), "no newline");
    }

    #[test]
    fn strips_colours_and_cuts_long_lines() {
        let text = "\u{1b}[0;31mfatal: [production]: FAILED!\u{1b}[0m\r\n";
        assert_eq!(
            tail(text.as_bytes(), 5).unwrap(),
            "fatal: [production]: FAILED!"
        );
        let long = "x".repeat(100_000);
        let cut = tail(long.as_bytes(), 5).unwrap();
        assert_eq!(cut.chars().count(), MAX_LINE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn recognises_the_too_large_message() {
        assert!(is_too_large(
            "Standard Output too large to display (2000000 bytes), only download supported for sizes over 1048576 bytes."
        ));
        assert!(!is_too_large("PLAY RECAP"));
    }
}
