//! The pull-request check: is this change to the desired state safe to merge? Beyond validating
//! the head, it judges the change itself — released history is immutable, and a new release must
//! be newer than everything already released — because a merge is a deploy and these mistakes
//! are cheap to catch in review and expensive after.

use crate::calver::CalVer;
use crate::diagnostic::{Diagnostic, Source};
use crate::release::{RELEASES_DIR, parse_release, version_from_path};
use crate::validate::InputFile;
use std::collections::BTreeMap;

pub const RELEASE_MODIFIED: &str = "stackrel::check::release-modified";
pub const RELEASE_DELETED: &str = "stackrel::check::release-deleted";
pub const NOT_NEWER: &str = "stackrel::check::not-newer";
pub const SEVERAL_RELEASES: &str = "stackrel::check::several-releases";
pub const WAIVED_CI: &str = "stackrel::check::waived-ci";

/// What the pull request does to the releases, for the summary line.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChangeSummary {
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
}

fn release_files(files: &[InputFile]) -> BTreeMap<&str, &[u8]> {
    files
        .iter()
        .filter(|f| f.path.starts_with(&format!("{RELEASES_DIR}/")) && f.path.ends_with(".toml"))
        .map(|f| (f.path.as_str(), f.bytes.as_slice()))
        .collect()
}

fn source_for(path: &str, bytes: &[u8]) -> Source {
    Source::new(path, String::from_utf8_lossy(bytes).into_owned())
}

/// Judges the change from `fork` (where the branch left the target, usually the merge base) to
/// `head`, against `base` (the target branch as it is now). Returns the findings and a summary.
pub fn judge_change(
    base: &[InputFile],
    fork: &[InputFile],
    head: &[InputFile],
) -> (Vec<Diagnostic>, ChangeSummary) {
    let fork_files = release_files(fork);
    let head_files = release_files(head);
    let mut diagnostics = Vec::new();
    let mut summary = ChangeSummary::default();
    judge_released(&fork_files, &head_files, &mut diagnostics, &mut summary);
    let released: Vec<CalVer> = release_files(base)
        .keys()
        .chain(fork_files.keys())
        .filter_map(|p| version_from_path(p).ok())
        .collect();
    let newest_released = released.iter().max().copied();
    let mut added: Vec<(CalVer, &str)> = Vec::new();
    for (path, bytes) in &head_files {
        if fork_files.contains_key(path) {
            continue;
        }
        summary.added.push(path.to_string());
        let Ok(version) = version_from_path(path) else {
            continue; // validation already reports the file name
        };
        added.push((version, path));
        let source = source_for(path, bytes);
        diagnostics.extend(not_newer(&source, version, newest_released));
        diagnostics.extend(waived_gates(&source));
    }
    diagnostics.extend(several_added(added));
    (diagnostics, summary)
}

/// Released files must stay as they are: modified or deleted is an error.
fn judge_released(
    fork_files: &BTreeMap<&str, &[u8]>,
    head_files: &BTreeMap<&str, &[u8]>,
    diagnostics: &mut Vec<Diagnostic>,
    summary: &mut ChangeSummary,
) {
    for (path, old) in fork_files {
        match head_files.get(path) {
            None => {
                summary.deleted.push(path.to_string());
                diagnostics.push(
                    Diagnostic::error(RELEASE_DELETED, format!("released file `{path}` is deleted"))
                        .in_path(path)
                        .help("released history is immutable: restore the file; to roll back, add a new release with the old versions"),
                );
            }
            Some(new) if new != old => {
                summary.modified.push(path.to_string());
                let source = source_for(path, new);
                let first_difference = old
                    .iter()
                    .zip(new.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(old.len().min(new.len()));
                diagnostics.push(
                    source
                        .error(RELEASE_MODIFIED, format!("released file `{path}` is modified"))
                        .at(first_difference..first_difference, "changed here")
                        .help("released history is immutable: revert this change and add a new release file (the next version) instead"),
                );
            }
            Some(_) => {}
        }
    }
}

fn not_newer(source: &Source, version: CalVer, newest: Option<CalVer>) -> Option<Diagnostic> {
    let newest = newest.filter(|newest| version <= *newest)?;
    Some(
        source
            .error(
                NOT_NEWER,
                format!(
                    "new release {version} is not newer than {newest}, which is already released"
                ),
            )
            .at(0..0, "this release would never deploy")
            .help(format!(
                "name the release after the next version, e.g. `{RELEASES_DIR}/{}.toml`",
                newest.next_iteration()
            )),
    )
}

/// A release that waives CI gates says so in review, where a person can object.
fn waived_gates(source: &Source) -> Option<Diagnostic> {
    let (release, _) = parse_release(source, None);
    let release = release.filter(|r| !r.waive_ci.is_empty())?;
    Some(
        source
            .warning(WAIVED_CI, format!(
                "release {} waives the CI gate of {} (waive_ci): it deploys without that build's success",
                release.version,
                release.waive_ci.join(", ")
            ))
            .at(0..0, "waives CI")
            .help("merge only if the build was proven another way; remove waive_ci to keep the gate"),
    )
}

fn several_added(mut added: Vec<(CalVer, &str)>) -> Option<Diagnostic> {
    if added.len() < 2 {
        return None;
    }
    added.sort();
    let (newest, _) = added.last()?;
    let superseded: Vec<String> = added[..added.len() - 1]
        .iter()
        .map(|(v, _)| v.to_string())
        .collect();
    Some(
        Diagnostic::new(
            crate::diagnostic::Severity::Warning,
            SEVERAL_RELEASES,
            format!(
                "this change adds {} releases; only the newest, {newest}, deploys — {} will be superseded",
                added.len(),
                superseded.join(", ")
            ),
        )
        .help("that is fine for recording history; to deploy each one, merge them one at a time"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> InputFile {
        InputFile {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    const R1: &str = "backend = \"2026.08.1\"\n";

    #[test]
    fn adding_a_newer_release_is_clean() {
        let base = [file("releases/2026.08.2.toml", R1)];
        let head = [
            file("releases/2026.08.2.toml", R1),
            file("releases/2026.08.3.toml", R1),
        ];
        let (diagnostics, summary) = judge_change(&base, &base, &head);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(summary.added, ["releases/2026.08.3.toml"]);
    }

    #[test]
    fn a_new_release_that_waives_ci_is_a_warning_naming_the_gate() {
        let base = [file("releases/2026.08.2.toml", R1)];
        let waiving = "backend = \"2024.11.1-1\"\nwaive_ci = [\"backend\"]\n";
        let head = [
            file("releases/2026.08.2.toml", R1),
            file("releases/2026.08.3.toml", waiving),
        ];
        let (diagnostics, _) = judge_change(&base, &base, &head);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].code, WAIVED_CI);
        assert!(!diagnostics[0].is_error());
        assert!(
            diagnostics[0].message.contains("backend"),
            "{}",
            diagnostics[0].message
        );
    }

    #[test]
    fn adding_an_older_release_is_an_error() {
        let base = [file("releases/2026.08.3.toml", R1)];
        let head = [
            file("releases/2026.08.3.toml", R1),
            file("releases/2026.08.2.toml", R1),
        ];
        let (diagnostics, _) = judge_change(&base, &base, &head);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, NOT_NEWER);
        assert!(
            diagnostics[0]
                .help
                .as_deref()
                .unwrap_or_default()
                .contains("2026.08.4")
        );
    }

    #[test]
    fn a_release_merged_to_base_meanwhile_counts_as_released() {
        let fork = [file("releases/2026.08.2.toml", R1)];
        let base = [
            file("releases/2026.08.2.toml", R1),
            file("releases/2026.08.4.toml", R1),
        ];
        let head = [
            file("releases/2026.08.2.toml", R1),
            file("releases/2026.08.3.toml", R1),
        ];
        let (diagnostics, _) = judge_change(&base, &fork, &head);
        assert_eq!(
            diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
            [NOT_NEWER]
        );
    }

    #[test]
    fn modifying_a_released_file_is_an_error_at_the_change() {
        let base = [file("releases/2026.08.2.toml", R1)];
        let head = [file("releases/2026.08.2.toml", "backend = \"2026.08.9\"\n")];
        let (diagnostics, summary) = judge_change(&base, &base, &head);
        assert_eq!(diagnostics[0].code, RELEASE_MODIFIED);
        assert_eq!(
            (diagnostics[0].line, diagnostics[0].column),
            (Some(1), Some(20))
        );
        assert_eq!(summary.modified, ["releases/2026.08.2.toml"]);
    }

    #[test]
    fn deleting_a_released_file_is_an_error() {
        let base = [file("releases/2026.08.2.toml", R1)];
        let (diagnostics, _) = judge_change(&base, &base, &[]);
        assert_eq!(diagnostics[0].code, RELEASE_DELETED);
    }

    #[test]
    fn adding_several_releases_warns_that_only_the_newest_deploys() {
        let head = [
            file("releases/2026.08.3.toml", R1),
            file("releases/2026.08.4.toml", R1),
        ];
        let (diagnostics, _) = judge_change(&[], &[], &head);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, SEVERAL_RELEASES);
        assert!(!diagnostics[0].is_error());
        assert!(
            diagnostics[0]
                .message
                .contains("only the newest, 2026.08.4")
        );
    }
}
