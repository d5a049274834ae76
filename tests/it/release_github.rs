//! Specifies `stackrel release` on GitHub, through the real octocrab forge against the emulator:
//! the notes' merged pull requests come from one compare per component (a merge commit or a
//! squash names its pull request) and the commits-to-pulls lookup only for a mainline commit
//! that names none; a pull request's own commits are not listed again; and `--pr` makes exactly
//! one branch and one pull request even when GitHub's answers are lost on the way.

use chrono::{TimeZone, Utc};
use git2::Oid;
use stackrel::apply::Backends;
use stackrel::config::RepoLocation;
use stackrel::forge::Forge;
use stackrel::proposal::{Proposal, Request, propose, submit};
use std::process::{Command, Stdio};
use testkit::emulator::github::{Fault, FaultKind};
use testkit::github_world::{
    AWX_TOKEN, FRONTEND, TOKEN, World, awx_deployer, connect, count, verifier, world, writes,
};
use testkit::sandbox::{commit_component, side_commit};

const DESIRED: &str = "xchem/fragalysis-desired";

fn frontend() -> RepoLocation {
    RepoLocation::parse(FRONTEND).unwrap()
}

/// Frontend history after its live tag 2026.08.2: a rebase-merged pull request (whose commit
/// names no pull request), a merge commit of a second one (with a commit of its own branch),
/// and a direct push, tagged 2026.08.3 with green CI. Returns the commits and the numbers.
struct History {
    rebased: Oid,
    own: Oid,
    merge: Oid,
    direct: Oid,
    rebased_pull: u64,
    merged_pull: u64,
}

fn frontend_history(w: &World) -> History {
    let path = &w.sandbox.frontend;
    let rebased = commit_component(path, "production", "Add the 3D viewer", None, None);
    let rebased_pull = w.github.add_merged_pull(
        FRONTEND,
        "New viewer, closes #1502",
        "viewer",
        &[&rebased.to_string()],
        &rebased.to_string(),
    );
    // The world's ticket is #1, the rebased pull request #2: the merged one will be #3.
    let merged_pull = rebased_pull + 1;
    let own = side_commit(path, rebased, "wip on the loader");
    let merge = commit_component(
        path,
        "production",
        &format!("Merge pull request #{merged_pull} from xchem/loader\n\nFix the loader"),
        Some(own),
        None,
    );
    assert_eq!(
        w.github.add_merged_pull(
            FRONTEND,
            "Fix the loader",
            "loader",
            &[&own.to_string()],
            &merge.to_string()
        ),
        merged_pull
    );
    let direct = commit_component(
        path,
        "production",
        "Direct fix on production",
        None,
        Some(("2026.08.3", None)),
    );
    w.github.set_run(
        FRONTEND,
        &direct.to_string(),
        "build production",
        "completed",
        Some("success"),
    );
    History {
        rebased,
        own,
        merge,
        direct,
        rebased_pull,
        merged_pull,
    }
}

#[test]
fn merged_pull_requests_come_from_one_compare_and_the_lookup_only_where_a_message_names_none() {
    let w = world();
    let h = frontend_history(&w);
    let forge = connect(&w);
    w.github.clear_log();
    let changes = forge
        .changes_between(&frontend(), "2026.08.2", &h.direct.to_string(), 50)
        .unwrap();
    let listed: Vec<(String, Option<u64>)> = changes
        .changes
        .iter()
        .map(|c| (c.commit.clone(), c.pull.as_ref().map(|p| p.number)))
        .collect();
    assert_eq!(
        listed,
        [
            (h.rebased.to_string(), Some(h.rebased_pull)),
            (h.merge.to_string(), Some(h.merged_pull)),
            (h.direct.to_string(), None),
        ],
        "the pull request's own commit {} is not on the mainline",
        h.own
    );
    assert_eq!(changes.total, 3);
    let log = w.github.requests();
    assert_eq!(count(&log, "GET", "/compare/"), 1);
    assert_eq!(
        count(&log, "GET", &format!("/commits/{}/pulls", h.rebased)),
        1
    );
    assert_eq!(
        count(&log, "GET", &format!("/commits/{}/pulls", h.direct)),
        1
    );
    assert_eq!(
        count(&log, "GET", "/pulls"),
        2,
        "no lookup for the merge commit"
    );
    assert_eq!(log.len(), 3, "{log:#?}");
}

fn proposal(w: &World, forge: &dyn Forge) -> Proposal {
    let deployer = awx_deployer(w);
    let verifier = verifier(w);
    let backends = Backends {
        forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: None,
    };
    let request = Request {
        assignments: Vec::new(),
        version: None,
        now: Utc.with_ymd_and_hms(2026, 8, 20, 12, 0, 0).unwrap(),
    };
    propose(&w.config, &w.releases, &backends, &request).unwrap()
}

#[test]
fn notes_on_github_name_each_pull_request_on_its_own_repository() {
    let w = world();
    let h = frontend_history(&w);
    let forge = connect(&w);
    let proposal = proposal(&w, &forge);
    assert_eq!(proposal.release.version.to_string(), "2026.08.4");
    assert_eq!(proposal.release.components["frontend"], "2026.08.3");
    let notes = proposal.release.notes.as_deref().unwrap();
    let expected = format!(
        "- frontend 2026.08.2...2026.08.3\n  \
         - New viewer, closes xchem/fragalysis-frontend#1502 (xchem/fragalysis-frontend#{})\n  \
         - Fix the loader (xchem/fragalysis-frontend#{})\n  \
         - Direct fix on production ({})\n",
        h.rebased_pull,
        h.merged_pull,
        &h.direct.to_string()[..7]
    );
    assert!(notes.contains(&expected), "{notes}");
    assert!(
        notes.contains("- backend 2026.08.1: no changes\n"),
        "{notes}"
    );
}

/// The desired-state repository on the emulator, as a bare clone of the world's checkout.
fn serve_desired(w: &World) -> String {
    let bare = w.sandbox.root.join("desired.git");
    git2::build::RepoBuilder::new()
        .bare(true)
        .clone(w.sandbox.desired.to_str().unwrap(), &bare)
        .unwrap();
    w.github.add_repo(DESIRED, &bare).unwrap();
    let repo = git2::Repository::open(&w.sandbox.desired).unwrap();
    submit::current_branch(&repo).unwrap()
}

fn lose(method: &str, path: &str) -> Fault {
    Fault {
        method: Some(method.into()),
        path_contains: path.into(),
        kind: FaultKind::LoseResponse,
        times: 1,
    }
}

#[test]
fn pr_makes_one_branch_and_one_pull_request_even_when_every_answer_is_lost() {
    let w = world();
    frontend_history(&w);
    let base = serve_desired(&w);
    let forge = connect(&w);
    let proposal = proposal(&w, &forge);
    w.github.clear_log();
    for (method, path) in [
        ("POST", "/git/refs"),
        ("PUT", "/contents/releases/"),
        ("POST", "/pulls"),
    ] {
        w.github.inject(lose(method, path));
    }
    let desired = RepoLocation::parse(DESIRED).unwrap();
    let proposed = submit::pull_request(&forge, &desired, &base, &proposal, "the body").unwrap();
    assert!(proposed.opened);
    let pulls = w.github.pulls(DESIRED);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert_eq!(pulls[0].number, proposed.pull.number);
    assert_eq!(pulls[0].head_ref, "release/2026.08.4");
    assert_eq!(pulls[0].base_ref, base);
    let log = w.github.requests();
    assert_eq!(
        writes(&log),
        [
            "POST /repos/xchem/fragalysis-desired/git/refs -> 201",
            "PUT /repos/xchem/fragalysis-desired/contents/releases/2026.08.4.toml -> 201",
            "POST /repos/xchem/fragalysis-desired/pulls -> 201",
        ],
        "each write once, though no answer came back"
    );
    assert_eq!(log.iter().filter(|r| r.dropped).count(), 3, "{log:#?}");
    let bare = git2::Repository::open(w.github.repo_path(DESIRED).unwrap()).unwrap();
    let tip = bare
        .find_reference("refs/heads/release/2026.08.4")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let blob = tip
        .tree()
        .unwrap()
        .get_path(std::path::Path::new("releases/2026.08.4.toml"))
        .unwrap()
        .to_object(&bare)
        .unwrap()
        .peel_to_blob()
        .unwrap();
    assert_eq!(std::str::from_utf8(blob.content()).unwrap(), proposal.text);

    // Running it again finds the pull request and writes nothing.
    w.github.clear_log();
    let again = submit::pull_request(&forge, &desired, &base, &proposal, "the body").unwrap();
    assert!(!again.opened);
    assert_eq!(again.pull, proposed.pull);
    assert!(writes(&w.github.requests()).is_empty());
}

#[test]
fn pr_on_the_command_line_opens_the_pull_request_with_the_notes_and_the_plan() {
    let w = world();
    frontend_history(&w);
    serve_desired(&w);
    let checkout = git2::Repository::open(&w.sandbox.desired).unwrap();
    checkout
        // The emulator stands for GitHub: its address is where the repositories are.
        .remote("origin", &format!("{}/{DESIRED}.git", w.github.url()))
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_stackrel"))
        .args(["release", "--pr", "--version", "2026.08.9"])
        .current_dir(&w.sandbox.desired)
        .env("NO_COLOR", "1")
        .env("GITHUB_TOKEN", TOKEN)
        .env("AWX_TOKEN", AWX_TOKEN)
        .env_remove("GITHUB_APP_ID")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pulls = w.github.pulls(DESIRED);
    assert_eq!(pulls.len(), 1);
    assert!(
        text.contains(&format!(
            "Opened pull request #{} on {DESIRED}",
            pulls[0].number
        )),
        "{text}"
    );
    let body = pulls[0].body.as_deref().unwrap();
    assert!(body.contains("- frontend 2026.08.2...2026.08.3"), "{body}");
    assert!(
        body.contains("### stackrel: merging deploys 2026.08.9"),
        "{body}"
    );
    assert_eq!(pulls[0].title, "Release 2026.08.9");
}

#[test]
fn a_second_pull_request_from_the_same_head_is_refused_as_github_refuses_it() {
    let w = world();
    let base = serve_desired(&w);
    let forge = connect(&w);
    let desired = RepoLocation::parse(DESIRED).unwrap();
    let tip = forge.branch_head(&desired, &base).unwrap();
    let pull = stackrel::forge::NewPull {
        head: "release/x",
        base: &base,
        title: "Release x",
        body: "",
    };
    // No such head yet, then a head with no commits beyond the base: both 422.
    assert!(forge.create_pull(&desired, &pull).is_err());
    forge.create_branch(&desired, "release/x", &tip).unwrap();
    let empty = forge.create_pull(&desired, &pull).unwrap_err().to_string();
    assert!(empty.contains("No commits between"), "{empty}");
    let write = stackrel::forge::FileWrite {
        branch: "release/x",
        path: "releases/x.toml",
        content: "x",
        expected_blob: "",
        message: "x",
    };
    forge.write_file(&desired, &write).unwrap();
    let first = forge.create_pull(&desired, &pull).unwrap();
    assert!(matches!(
        forge.create_pull(&desired, &pull),
        Err(stackrel::forge::ForgeError::AlreadyExists { .. })
    ));
    assert!(matches!(
        forge.create_branch(&desired, "release/x", &tip),
        Err(stackrel::forge::ForgeError::AlreadyExists { .. })
    ));
    assert_eq!(
        forge.find_pull(&desired, "release/x", &base).unwrap(),
        Some(first)
    );
    assert_eq!(forge.find_pull(&desired, "release/y", &base).unwrap(), None);
}

#[test]
fn going_back_to_an_older_frontend_lists_what_it_undoes() {
    let w = world();
    let h = frontend_history(&w);
    let forge = connect(&w);
    let deployer = awx_deployer(&w);
    let verifier = verifier(&w);
    let backends = Backends {
        forge: &forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: None,
    };
    // The newest declared release pins frontend 2026.08.2; propose 2026.08.1 instead.
    let request = Request {
        assignments: vec!["frontend=2026.08.1".into()],
        version: None,
        now: Utc.with_ymd_and_hms(2026, 8, 20, 12, 0, 0).unwrap(),
    };
    let proposal = propose(&w.config, &w.releases, &backends, &request).unwrap();
    let notes = proposal.release.notes.unwrap();
    assert!(
        notes.contains("- frontend 2026.08.2...2026.08.1, back to an older version; undoes:\n  - "),
        "{notes}"
    );
    assert!(!notes.contains(&h.direct.to_string()[..7]), "{notes}");
}

#[test]
fn a_range_longer_than_a_compare_page_lists_its_newest_changes_and_counts_the_rest() {
    let w = world();
    let path = &w.sandbox.frontend;
    let mut made = Vec::new();
    for n in 1..=230 {
        let tag = (n == 230).then_some(("2026.08.3", None));
        made.push(commit_component(
            path,
            "production",
            &format!("Change {n} (#{})", 1000 + n),
            None,
            tag,
        ));
    }
    let forge = connect(&w);
    w.github.clear_log();

    let changes = forge
        .changes_between(&frontend(), "2026.08.2", "2026.08.3", 50)
        .unwrap();
    let listed: Vec<String> = changes.changes.iter().map(|c| c.commit.clone()).collect();
    let newest: Vec<String> = made[180..].iter().map(Oid::to_string).collect();
    assert_eq!(listed, newest, "the newest 50, oldest first");
    assert_eq!(changes.total, 230);
    let log = w.github.requests();
    assert!(count(&log, "GET", "/compare/") <= 3, "{log:#?}");
    assert_eq!(
        count(&log, "GET", "/pulls"),
        0,
        "every message names its pull request"
    );
}
