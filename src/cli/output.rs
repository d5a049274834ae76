//! Printing shared by the commands: diagnostics in the three formats, colour only on a terminal,
//! and the conversion of library errors into reports with a help line.

use miette::Report;
use stackrel::diagnostic::{Diagnostic, Format, render_github, render_human, render_json};
use stackrel::tree::TreeError;
use std::io::IsTerminal;
use std::path::Path;

pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// The path prefix that makes diagnostics' repository-relative paths valid from the working
/// directory (GitHub annotations need paths relative to the workspace).
pub fn path_prefix(repo: &Path) -> String {
    let shown = repo.to_string_lossy();
    if shown == "." || shown.is_empty() {
        String::new()
    } else {
        format!("{}/", shown.trim_end_matches('/').trim_start_matches("./"))
    }
}

/// Prints diagnostics in the chosen format; `summary` is the closing line for people.
pub fn print_diagnostics(diagnostics: &[Diagnostic], format: Format, repo: &Path, summary: &str) {
    match format {
        Format::Human => {
            let color = color_enabled();
            for d in diagnostics {
                println!("{}", render_human(d, color));
            }
            println!("{summary}");
        }
        Format::Json => println!("{}", render_json(diagnostics)),
        Format::Github => {
            let prefix = path_prefix(repo);
            for d in diagnostics {
                println!("{}", render_github(d, &prefix));
            }
            println!("{summary}");
        }
    }
}

pub fn count_summary(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    (errors, diagnostics.len() - errors)
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn tree_error(e: TreeError) -> Report {
    let help = e.help();
    miette::miette!(help = help, "{e}")
}
