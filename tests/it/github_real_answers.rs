//! Specifies the GitHub forge against GitHub as it really answers, where that is less kind
//! than the happy path: writing workflow files needs a permission GitHub refuses with a bare
//! 404 or 403; lists come a page at a time (variables 30 at most); nothing documents the order
//! of deployments and their statuses; secondary rate limits come without `retry-after`;
//! `compare` gives up with 503 on a large diff; a renamed repository redirects reads (301) and
//! writes (307). Each runs the real octocrab-based forge against the GitHub emulator.

use stackrel::apply::{ApplyOutcome, Quiet};
use stackrel::config::RepoLocation;
use stackrel::credentials::{GithubAuth, Secret};
use stackrel::forge::github_access::WorkflowAccess;
use stackrel::forge::{CiStatus, DeploymentRecord, DeploymentState, Forge};
use testkit::emulator::github::{Fault, FaultKind, RepoPermissions};
use testkit::github_world::*;
use testkit::sandbox::{assert_converged, commits_since, master, tag_commit, tags};

fn stack() -> RepoLocation {
    RepoLocation::parse(STACK).unwrap()
}

fn admin() -> RepoPermissions {
    RepoPermissions {
        admin: true,
        push: true,
        pull: true,
    }
}

/// No request but GETs (and an App's minting of its installation token) reached GitHub, and
/// the stack's history is as it was.
fn assert_nothing_sent_but_reads(w: &World) {
    let log = w.github.requests();
    let sent: Vec<String> = writes(&log)
        .into_iter()
        .filter(|w| !w.contains("/access_tokens"))
        .collect();
    assert_eq!(sent, Vec::<String>::new(), "no write reaches GitHub");
    assert_eq!(master(&w.sandbox), w.start);
    assert!(w.github.releases(STACK).is_empty());
    assert!(w.github.deployments(STACK).is_empty());
    assert!(w.awx.jobs().is_empty());
}

fn record(version: &str, commit: &str, state: DeploymentState) -> DeploymentRecord {
    DeploymentRecord {
        version: version.into(),
        commit: commit.into(),
        state,
        at: String::new(),
        detail: String::new(),
        images: Default::default(),
    }
}

// --- The workflow permission ---------------------------------------------------------------

#[test]
fn a_classic_token_without_the_workflow_scope_is_refused_before_anything_is_written() {
    let w = world();
    w.github.set_scopes(&["repo", "read:org"]);
    let err = apply_fresh(&w, &mut Quiet).unwrap_err().to_string();
    assert!(err.contains("lacks the `workflow` scope"), "{err}");
    assert!(err.contains("its scopes: repo, read:org"), "{err}");
    assert!(err.contains("settings/tokens"), "how to grant it: {err}");
    assert_nothing_sent_but_reads(&w);
}

#[test]
fn a_scope_granted_while_the_process_runs_is_seen_at_the_next_attempt() {
    let w = world();
    w.github.set_scopes(&["repo"]);
    let github = connect(&w);
    assert!(apply_with(&w, &github, &mut Quiet).is_err());
    // The person edits the token; the same process (a daemon) tries again.
    w.github.set_scopes(&["repo", "workflow"]);
    assert_converged(&apply_with(&w, &github, &mut Quiet).unwrap());
    assert_eq!(
        commits_since(&w.sandbox, w.start).len(),
        1,
        "one pin commit"
    );
}

#[test]
fn the_actions_token_is_named_as_such_and_nothing_is_written() {
    let token = "ghs_ActionsWorkflowToken0123456789abcd";
    let w = world_as(("2026.08.1", "2026.08.2"), token);
    let own = GithubAuth::ActionsToken(Secret::new(token));
    let err = apply_with(&w, &connect_auth(&w, &own), &mut Quiet)
        .unwrap_err()
        .to_string();
    assert!(err.contains("GitHub Actions GITHUB_TOKEN"), "{err}");
    assert!(err.contains("start no workflows"), "{err}");
    assert!(
        !err.contains("ghs_Actions"),
        "the error shows no token: {err}"
    );
    assert_nothing_sent_but_reads(&w);
}

#[test]
fn the_preflight_reads_a_classic_tokens_scopes_from_githubs_answers() {
    let w = world();
    let github = connect(&w);
    assert_eq!(
        github.workflow_access(&stack(), WORKFLOW).unwrap(),
        WorkflowAccess::Granted
    );
    w.github.set_scopes(&["repo"]);
    let github = connect(&w);
    let access = github.workflow_access(&stack(), WORKFLOW).unwrap();
    assert!(matches!(access, WorkflowAccess::Missing(_)), "{access}");
}

#[test]
fn the_emulator_refuses_workflow_writes_without_the_permission_as_github_does() {
    // GitHub answers a token without the `workflow` scope with a bare 404.
    let w = world();
    w.github.set_scopes(&["repo"]);
    let github = connect(&w);
    let file = github
        .read_file(&stack(), &w.start.to_string(), WORKFLOW)
        .unwrap()
        .unwrap();
    let write = stackrel::forge::FileWrite {
        path: "README.md",
        content: "other files are fine\n",
        message: "docs",
        expected_blob: "",
        branch: "master",
    };
    github.write_file(&stack(), &write).unwrap();
    let refused = w.github.requests();
    assert_eq!(refused.last().unwrap().status, 201);
    // The forge itself refuses before sending; the emulator's own answer, asked directly:
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let put = agent
        .put(format!(
            "{}/repos/{STACK}/contents/{WORKFLOW}",
            w.github.url()
        ))
        .header("Authorization", format!("token {}", w.token))
        .send_json(serde_json::json!({
            "message": "pin", "content": "eA==", "sha": file.blob, "branch": "master"
        }))
        .unwrap();
    assert_eq!(put.status().as_u16(), 404);
}

// --- Pagination ---------------------------------------------------------------------------

#[test]
fn a_variable_shadowing_a_pin_on_the_second_page_of_thirty_is_found() {
    let w = world();
    w.github.set_permissions(STACK, admin());
    for n in 0..30 {
        w.github.add_variable(STACK, &format!("OTHER_{n:02}"), "x");
    }
    w.github.add_variable(STACK, "FE_IMAGE_TAG", "2026.01.1");
    let plan = plan_with(&w, &connect(&w));
    assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
    assert!(
        plan.warnings[0].contains("FE_IMAGE_TAG"),
        "{}",
        plan.warnings[0]
    );
}

#[test]
fn a_secret_shadowing_a_pin_on_the_second_page_of_a_hundred_is_found() {
    let w = world();
    w.github.set_permissions(STACK, admin());
    for n in 0..100 {
        w.github.add_secret(STACK, &format!("OTHER_{n:03}"));
    }
    w.github.add_secret(STACK, "BE_IMAGE_TAG");
    let github = connect(&w);
    let found = github
        .pin_overrides(&stack(), &["BE_IMAGE_TAG", "FE_IMAGE_TAG"])
        .unwrap();
    assert_eq!(found, ["BE_IMAGE_TAG"]);
}

#[test]
fn the_ticket_comment_on_the_second_page_is_edited_not_posted_again() {
    let w = world();
    for n in 0..100 {
        w.github
            .add_comment(STACK, w.ticket.number, "octocat", &format!("comment {n}"));
    }
    let marker = MARKER;
    connect(&w)
        .report_ticket(&w.ticket, marker, "first report", None)
        .unwrap();
    // A restart: a new process that has not written the comment yet.
    connect(&w)
        .report_ticket(&w.ticket, marker, "second report", None)
        .unwrap();
    let issue = &w.github.issues(STACK)[0];
    let ours: Vec<&str> = issue
        .comments
        .iter()
        .filter(|c| c.body.contains(marker))
        .map(|c| c.body.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].starts_with("second report"), "{ours:?}");
}

#[test]
fn a_lost_response_to_the_ticket_comment_on_the_second_page_leaves_one_comment() {
    let w = world();
    for n in 0..100 {
        w.github
            .add_comment(STACK, w.ticket.number, "octocat", &format!("comment {n}"));
    }
    w.github.inject(Fault {
        method: Some("POST".into()),
        path_contains: "/comments".into(),
        kind: FaultKind::LoseResponse,
        times: 1,
    });
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    let issue = &w.github.issues(STACK)[0];
    let ours = issue
        .comments
        .iter()
        .filter(|c| c.body.contains(MARKER))
        .count();
    assert_eq!(
        ours,
        1,
        "one stackrel comment among {}",
        issue.comments.len()
    );
    assert_eq!(issue.comments.len(), 101);
}

#[test]
fn a_ci_run_on_the_second_page_of_runs_is_found() {
    let w = world();
    let backend = RepoLocation::parse(BACKEND).unwrap();
    let commit = tag_commit(&w.sandbox.backend, "2026.08.1")
        .unwrap()
        .to_string();
    // A hundred newer runs of other workflows on the same commit push it to page 2.
    for n in 0..100 {
        w.github.set_run(
            BACKEND,
            &commit,
            &format!("lint {n}"),
            "completed",
            Some("success"),
        );
    }
    let status = connect(&w)
        .ci_status(&backend, &commit, "build production")
        .unwrap();
    assert_eq!(status, CiStatus::Success);
}

// --- Ordering -------------------------------------------------------------------------------

#[test]
fn deployments_and_statuses_listed_oldest_first_over_pages_still_give_the_newest() {
    let w = world();
    w.github.list_oldest_first();
    let earlier = connect(&w);
    let commit = w.start.to_string();
    let repo = git2::Repository::open(&w.sandbox.stack).unwrap();
    for n in 1..=25 {
        let version = format!("2024.01.{n}");
        repo.reference(&format!("refs/tags/{version}"), w.start, true, "earlier")
            .unwrap();
        for state in [DeploymentState::Started, DeploymentState::Verified] {
            earlier
                .record_deployment(&stack(), &record(&version, &commit, state))
                .unwrap();
        }
    }
    let newest = "2024.01.25";
    // A restart: nothing remembered, everything listed.
    let records = connect(&w).deployments(&stack()).unwrap();
    let last = records
        .iter()
        .find(|r| r.version == newest)
        .unwrap_or_else(|| panic!("{newest} is among {} records", records.len()));
    assert_eq!(last.state, DeploymentState::Verified, "{last:?}");
    assert_eq!(records.len(), 25);
    assert!(records.iter().all(|r| r.state == DeploymentState::Verified));
}

#[test]
fn a_lost_response_to_a_deployment_status_then_a_restart_converges_with_statuses_oldest_first() {
    let w = world();
    w.github.list_oldest_first();
    // The verified status is written, its answer lost, and the process ends there.
    w.github.inject(Fault {
        method: Some("POST".into()),
        path_contains: "/statuses".into(),
        kind: FaultKind::LoseResponse,
        times: 1,
    });
    let first = apply_fresh(&w, &mut Quiet);
    assert!(first.is_ok(), "{first:?}");
    // A new process reads the statuses back, oldest first, and must pick the newest.
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    assert_eq!(awx_jobs_for(&w, VERSION), 1, "deployed once");
    let deployments = w.github.deployments(STACK);
    assert_eq!(deployments.len(), 1, "one deployment object");
    let plan = plan_with(&w, &connect(&w));
    assert!(plan.in_sync(), "{plan:#?}");
}

// --- Rate limits and compare ---------------------------------------------------------------

#[test]
fn a_secondary_limit_without_retry_after_is_waited_out_with_exponential_backoff() {
    let w = world();
    w.github.inject(Fault {
        method: Some("GET".into()),
        path_contains: "/git/matching-refs/tags".into(),
        kind: FaultKind::RateLimited {
            status: 403,
            retry_after_secs: None,
        },
        times: 3,
    });
    let github = connect(&w);
    let tag = github.resolve_tag(&stack(), VERSION).unwrap();
    assert_eq!(tag, None);
    // The test policy's first wait is 10 ms (production: a minute), doubling each time.
    assert_eq!(github.stats().rate_limit_waits_ms, [10, 20, 40]);
}

#[test]
fn a_comparison_too_long_to_generate_is_answered_the_other_way_round() {
    let w = world();
    w.github.set_diff_limit(0);
    let backend = RepoLocation::parse(BACKEND).unwrap();
    let on_production = tag_commit(&w.sandbox.backend, "2026.07.1")
        .unwrap()
        .to_string();
    let github = connect(&w);
    assert!(
        github
            .is_reachable(&backend, &on_production, "production")
            .unwrap()
    );
    let compares: Vec<u16> = w
        .github
        .requests()
        .iter()
        .filter(|r| r.path.contains("/compare/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(compares, [503, 200], "not retried, then reversed");
}

// --- Renamed repositories -------------------------------------------------------------------

#[test]
fn a_renamed_stack_repository_is_written_under_its_new_name_and_the_person_told() {
    let w = world();
    let renamed = "xchem/fragalysis-stack-2";
    w.github.rename(STACK, renamed);
    let github = connect(&w);
    let access = github.permissions(&stack()).unwrap();
    assert_eq!(access.renamed_to.as_deref(), Some(renamed));
    assert_converged(&apply_with(&w, &github, &mut Quiet).unwrap());
    assert_eq!(
        commits_since(&w.sandbox, w.start).len(),
        1,
        "one pin commit"
    );
    assert_eq!(tags(&w.sandbox).len(), 1);
    assert_eq!(w.github.releases(renamed).len(), 1);
    let moved: Vec<String> = writes(&w.github.requests())
        .into_iter()
        .filter(|r| r.contains("-> 307"))
        .collect();
    assert!(moved.is_empty(), "no write went to the old name: {moved:?}");
}

#[test]
fn a_rename_found_only_by_a_write_is_resent_under_the_new_name() {
    let w = world();
    let renamed = "xchem/fragalysis-stack-2";
    w.github.rename(STACK, renamed);
    // No preflight: the first write meets the 307.
    let outcome = apply_fresh(&w, &mut Quiet).unwrap();
    assert!(
        matches!(outcome, ApplyOutcome::Converged { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        commits_since(&w.sandbox, w.start).len(),
        1,
        "one pin commit"
    );
    assert_eq!(w.github.releases(renamed).len(), 1);
}

// --- A GitHub App ---------------------------------------------------------------------------

#[test]
fn an_app_without_workflows_write_is_refused_before_anything_is_written() {
    let w = world();
    // GitHub's description allows only `write` for `workflows`: without it, it is absent.
    w.github.set_installation_permission("workflows", None);
    let github = connect_app(&w);
    let err = apply_with(&w, &github, &mut Quiet).unwrap_err().to_string();
    assert!(
        err.contains("its installation has workflows: none"),
        "{err}"
    );
    assert!(
        err.contains("Workflows: Read and write"),
        "how to grant it: {err}"
    );
    assert_nothing_sent_but_reads(&w);
}

#[test]
fn an_app_with_workflows_write_releases() {
    let w = world();
    let github = connect_app(&w);
    assert_eq!(
        github.workflow_access(&stack(), WORKFLOW).unwrap(),
        WorkflowAccess::Granted
    );
    assert_converged(&apply_with(&w, &github, &mut Quiet).unwrap());
    assert_eq!(w.github.releases(STACK).len(), 1);
}

// --- Answers too large to read ----------------------------------------------------------------

#[test]
fn an_answer_over_the_size_limit_is_a_clear_error_naming_the_url() {
    use std::sync::Arc;
    use testkit::http_server::{self, Reply, Request, Response};
    let limit = stackrel::forge::github::MAX_ANSWER_BYTES;
    let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    let server = http_server::serve(
        "127.0.0.1:0",
        Arc::new(move |_: Request| {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let body = format!("[\"{}\"]", "x".repeat(limit + 1));
            Reply::Respond(Response::new(200, "application/json", body))
        }),
    )
    .unwrap();
    let forge = stackrel::forge::github::GithubForge::connect(
        &server.url(),
        &stackrel::credentials::GithubAuth::Token(stackrel::credentials::Secret::new("t0ken")),
        policy(),
    )
    .unwrap();

    let err = forge.deployments(&stack()).unwrap_err().to_string();
    assert!(err.contains(&format!("larger than {limit} bytes")), "{err}");
    assert!(
        err.contains("/repos/xchem/fragalysis-stack/deployments"),
        "{err}"
    );
    assert_eq!(
        served.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "not asked again"
    );
}
