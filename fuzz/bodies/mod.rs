//! What each fuzz target checks, one function per parser, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/`, nightly, coverage-guided) and the stable-Rust smoke run in the
//! integration tests (`tests/it/fuzz_smoke.rs`: a seed corpus and random mutations of it for a
//! bounded number of inputs), so both hold the parsers to the same properties. Every function
//! takes arbitrary bytes and panics only when a property fails.

pub mod calver_tag;
pub mod config;
pub mod pin_editor;
pub mod release_file;
pub mod webhook;
pub mod workflow;

/// A target's property over one input.
pub type Target = fn(&[u8]);

/// The targets by name, for the smoke run.
pub const TARGETS: &[(&str, Target)] = &[
    ("pin_editor", pin_editor::run),
    ("release_file", release_file::run),
    ("config", config::run),
    ("workflow", workflow::run),
    ("webhook", webhook::run),
    ("calver_tag", calver_tag::run),
];

/// Every diagnostic renders in each format without panicking, each GitHub annotation on one
/// line, each with a code and a message.
pub(crate) fn check_diagnostics(diagnostics: &[stackrel::diagnostic::Diagnostic]) {
    use stackrel::diagnostic::{render_github, render_human, render_json};
    for d in diagnostics {
        let _ = render_human(d, false);
        let annotation = render_github(d, "");
        assert!(!annotation.trim_end().contains('\n'), "{annotation:?}");
    }
    let _ = render_json(diagnostics);
}
