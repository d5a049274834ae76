//! Specifies what a person (or a CI job) sees: the built `stackrel` binary is run on small broken
//! desired-state trees — `validate` in the human, JSON and GitHub formats, and the pull-request
//! `check` on a git repository — and its standard output is compared with the committed
//! snapshots in `snapshots/<name>.snap` beside this file (through insta), with its exit code
//! asserted (0 when clean or only warnings, 1 on errors).
//!
//! Output is plain (`NO_COLOR=1`) and `--repo` is a path relative to the working directory, so no
//! temporary path can appear. To accept a change in the output, run the tests and review the new
//! snapshots with `cargo insta review` (or write them with `INSTA_UPDATE=always cargo test`), then
//! commit them. In CI a mismatch fails and nothing is written.

use git2::{Commit, Oid, Repository, Signature, Time};
use std::path::Path;
use std::process::Command;

// ---------------------------------------------------------------------------------------------
// Running the binary and comparing snapshots
// ---------------------------------------------------------------------------------------------

/// Runs `stackrel --repo <repo> <args…>` from `workdir`; returns the snapshot text (the command
/// line, then standard output) and the exit code.
fn run_stackrel(workdir: &Path, repo: &str, args: &[&str]) -> (String, i32) {
    let output = Command::new(env!("CARGO_BIN_EXE_stackrel"))
        .current_dir(workdir)
        .arg("--repo")
        .arg(repo)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("the stackrel binary runs");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let Some(code) = output.status.code() else {
        panic!(
            "stackrel did not exit normally; stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    // A backstop: the working directory is a temporary one, and must not leak into the output.
    let shown = workdir.to_string_lossy();
    assert!(
        !stdout.contains(shown.as_ref()),
        "the temporary directory appears in the output:\n{stdout}"
    );
    let command = format!("$ stackrel --repo {repo} {}\n", args.join(" "));
    (format!("{command}{stdout}"), code)
}

/// Compares `actual` with the snapshot `snapshots/<name>.snap`. insta compares text without its
/// trailing white space; every output here ends in exactly one newline and holds no carriage
/// return, and that is asserted too, so the comparison stays byte for byte.
#[track_caller]
fn assert_snapshot(name: &str, actual: &str) {
    assert!(
        actual.ends_with('\n')
            && actual.trim_end().len() + 1 == actual.len()
            && !actual.contains('\r'),
        "the output ends in exactly one newline and holds no carriage return: {actual:?}"
    );
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, actual);
    });
}

/// Writes a desired-state tree under `root/<name>`.
fn write_tree(root: &Path, name: &str, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(name).join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create directories");
        std::fs::write(path, text).expect("write a file");
    }
}

// ---------------------------------------------------------------------------------------------
// The trees
// ---------------------------------------------------------------------------------------------

const VALID_CONFIG: &str = r#"[stack]
repo = "xchem/fragalysis-stack"
branch = "master"
workflow = ".github/workflows/build-main.yaml"
commit_message = "build: Use of b/e {backend} f/e {frontend}"

[components.backend]
repo = "xchem/fragalysis-backend"
branch = "production"
pin = "BE_IMAGE_TAG"

[components.frontend]
repo = "xchem/fragalysis-frontend"
branch = "production"
pin = "FE_IMAGE_TAG"

[deploy]
kind = "awx"
url = "https://awx.example.org"
template = "Production Fragalysis Stack"
variable = "stack_image_tag"

[daemon]
resync = "0 */5 * * * *"
windows = ["* * 9-16 * * Mon-Thu"]
"#;

/// Five problems in one config: a misspelt placeholder, a misspelt key (so `branch` is missing
/// too), a pin used twice, an AWX deploy without a template, a five-field cron expression.
const BROKEN_CONFIG: &str = r#"[stack]
repo = "xchem/fragalysis-stack"
branch = "master"
workflow = ".github/workflows/build-main.yaml"
commit_message = "build: Use of b/e {backend} f/e {frontnd}"

[components.backend]
repo = "xchem/fragalysis-backend"
branch = "production"
pin = "BE_IMAGE_TAG"

[components.frontend]
repo = "xchem/fragalysis-frontend"
brnch = "production"
pin = "BE_IMAGE_TAG"

[deploy]
kind = "awx"
url = "https://awx.example.org"
variable = "stack_image_tag"

[daemon]
resync = "*/5 * * * *"
"#;

const RELEASE_2: &str = "backend = \"2026.07.1\"\nfrontend = \"2026.08.2\"\n";
const RELEASE_3: &str = "backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\nticket = \"m2ms/fragalysis-frontend#1523\"\n";

fn broken_releases(root: &Path) {
    write_tree(
        root,
        "broken-releases",
        &[
            ("stackrel.toml", &VALID_CONFIG.replace("Mon-Thu", "2-5")),
            ("releases/2026.08.2.toml", RELEASE_2),
            (
                "releases/2026.08.3.toml",
                "backend = \"2026.08.1\"\nfrontend = 2024.10\nticket = \"fragalysis-frontend#1523\"\n",
            ),
            ("releases/2023.6.2.toml", RELEASE_2),
            (
                "releases/2026.09.1.toml",
                "backend = \"2026.09.1\"\nnotes = \"frontend unchanged\"\n",
            ),
            ("releases/README.md", "# Releases\n"),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------

#[test]
fn validate_reports_every_problem_of_a_broken_config_for_people() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    write_tree(
        dir.path(),
        "broken-config",
        &[
            ("stackrel.toml", BROKEN_CONFIG),
            ("releases/2026.08.3.toml", RELEASE_3),
        ],
    );
    let (output, code) = run_stackrel(dir.path(), "broken-config", &["validate"]);
    assert_eq!(code, 1, "errors exit 1:\n{output}");
    assert_snapshot("validate_broken_config", &output);
}

#[test]
fn validate_reports_every_problem_of_broken_releases_for_people() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    broken_releases(dir.path());
    let (output, code) = run_stackrel(dir.path(), "broken-releases", &["validate"]);
    assert_eq!(code, 1, "errors exit 1:\n{output}");
    assert_snapshot("validate_broken_releases", &output);
}

#[test]
fn validate_reports_broken_releases_as_json_for_scripts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    broken_releases(dir.path());
    let (output, code) = run_stackrel(
        dir.path(),
        "broken-releases",
        &["validate", "--format", "json"],
    );
    assert_eq!(code, 1, "errors exit 1:\n{output}");
    let json = output
        .split_once('\n')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_str(json).expect("stdout is one JSON document");
    assert_eq!(doc["ok"], false);
    assert_snapshot("validate_broken_releases_json", &output);
}

#[test]
fn validate_reports_broken_releases_as_github_annotations() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    broken_releases(dir.path());
    let (output, code) = run_stackrel(
        dir.path(),
        "broken-releases",
        &["validate", "--format", "github"],
    );
    assert_eq!(code, 1, "errors exit 1:\n{output}");
    assert!(
        output
            .lines()
            .filter(|l| l.starts_with("::"))
            .all(|l| l.contains("file=broken-releases/")),
        "annotation paths are relative to the working directory:\n{output}"
    );
    assert_snapshot("validate_broken_releases_github", &output);
}

#[test]
fn validate_with_only_warnings_exits_zero_and_says_so() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = VALID_CONFIG
        .replace("Mon-Thu", "1-5")
        .replace(
            "kind = \"awx\"\nurl = \"https://awx.example.org\"\n",
            "kind = \"command\"\ncommand = [\"./deploy.sh\", \"{version}\"]\n",
        )
        .replace("variable = \"stack_image_tag\"\n", "");
    write_tree(
        dir.path(),
        "warnings-only",
        &[
            ("stackrel.toml", &config),
            ("releases/2026.08.2.toml", RELEASE_2),
            ("releases/2026.08.3.toml", RELEASE_3),
        ],
    );
    let (output, code) = run_stackrel(dir.path(), "warnings-only", &["validate"]);
    assert_eq!(code, 0, "warnings alone exit 0:\n{output}");
    assert_snapshot("validate_warnings_only", &output);
}

// ---------------------------------------------------------------------------------------------
// check, on a git repository
// ---------------------------------------------------------------------------------------------

/// 2026-08-20 12:00 UTC: commits get fixed dates, so nothing in a run depends on the clock.
const SECONDS_2026_08_20: i64 = 1_787_227_200;

/// Commits `files` (at most one directory level: `releases/`) to `refs/heads/<branch>`.
fn commit(
    repo: &Repository,
    branch: &str,
    parent: Option<&Commit<'_>>,
    message: &str,
    files: &[(&str, &str)],
) -> Oid {
    let mut root = repo.treebuilder(None).expect("a tree builder");
    let mut releases = repo.treebuilder(None).expect("a tree builder");
    for (path, text) in files {
        let blob = repo.blob(text.as_bytes()).expect("a blob");
        match path.split_once('/') {
            Some(("releases", name)) => releases.insert(name, blob, 0o100_644).map(drop),
            None => root.insert(path, blob, 0o100_644).map(drop),
            Some(_) => panic!("only releases/ is nested: {path}"),
        }
        .expect("insert into the tree");
    }
    let releases = releases.write().expect("write releases/");
    root.insert("releases", releases, 0o040_000)
        .expect("insert releases/");
    let tree = repo
        .find_tree(root.write().expect("write the tree"))
        .expect("the tree");
    let signature = Signature::new(
        "Release Manager",
        "releases@example.org",
        &Time::new(SECONDS_2026_08_20, 0),
    )
    .expect("a signature");
    let parents: Vec<&Commit<'_>> = parent.into_iter().collect();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &signature,
        &signature,
        message,
        &tree,
        &parents,
    )
    .expect("a commit")
}

/// A desired-state repository under `root/desired` with `main` holding two releases, and one
/// branch per pull request.
fn desired_repository(root: &Path) -> Repository {
    let repo = Repository::init(root.join("desired")).expect("git init");
    let base_files = [
        ("stackrel.toml", VALID_CONFIG),
        ("releases/2026.08.2.toml", RELEASE_2),
        ("releases/2026.08.3.toml", RELEASE_3),
    ];
    let main = commit(&repo, "main", None, "Release 2026.08.3", &base_files);
    let main = repo.find_commit(main).expect("main");

    let mut modified = base_files.to_vec();
    modified[2] = (
        "releases/2026.08.3.toml",
        "backend = \"2026.08.1\"\nfrontend = \"2026.08.9\"\nticket = \"m2ms/fragalysis-frontend#1523\"\n",
    );
    commit(
        &repo,
        "pr-modify",
        Some(&main),
        "Fix the frontend of 2026.08.3",
        &modified,
    );

    let mut two = base_files.to_vec();
    two.push((
        "releases/2026.09.1.toml",
        "backend = \"2026.09.1\"\nfrontend = \"2026.08.2\"\n",
    ));
    two.push((
        "releases/2026.09.2.toml",
        "backend = \"2026.09.1\"\nfrontend = \"2026.09.1\"\n",
    ));
    commit(
        &repo,
        "pr-two-releases",
        Some(&main),
        "Release 2026.09.1 and 2026.09.2",
        &two,
    );

    let mut one = base_files.to_vec();
    one.push((
        "releases/2026.09.1.toml",
        "backend = \"2026.09.1\"\nfrontend = \"2026.08.2\"\n",
    ));
    commit(
        &repo,
        "pr-one-release",
        Some(&main),
        "Release 2026.09.1",
        &one,
    );
    drop(main);
    repo
}

#[test]
fn check_refuses_a_pull_request_that_modifies_a_released_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let _repo = desired_repository(dir.path());
    let (output, code) = run_stackrel(
        dir.path(),
        "desired",
        &["check", "--base", "main", "--head", "pr-modify"],
    );
    assert_eq!(code, 1, "a modified release is an error:\n{output}");
    assert_snapshot("check_modified_release", &output);
}

#[test]
fn check_warns_but_passes_a_pull_request_adding_two_releases() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let _repo = desired_repository(dir.path());
    let (output, code) = run_stackrel(
        dir.path(),
        "desired",
        &["check", "--base", "main", "--head", "pr-two-releases"],
    );
    assert_eq!(code, 0, "a warning alone passes:\n{output}");
    assert_snapshot("check_two_releases_added", &output);
}

#[test]
fn check_passes_a_pull_request_adding_one_newer_release() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let _repo = desired_repository(dir.path());
    let (output, code) = run_stackrel(
        dir.path(),
        "desired",
        &["check", "--base", "main", "--head", "pr-one-release"],
    );
    assert_eq!(code, 0, "a clean change passes:\n{output}");
    assert_snapshot("check_one_release_added", &output);
}

#[test]
fn check_reports_a_modified_release_as_a_github_annotation_at_the_change() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let _repo = desired_repository(dir.path());
    let (output, code) = run_stackrel(
        dir.path(),
        "desired",
        &[
            "check",
            "--base",
            "main",
            "--head",
            "pr-modify",
            "--format",
            "github",
        ],
    );
    assert_eq!(code, 1, "a modified release is an error:\n{output}");
    assert_snapshot("check_modified_release_github", &output);
}
