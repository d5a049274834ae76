//! Specifies a whole release on GitHub and AWX, end to end, with the real clients: the
//! octocrab-based `GithubForge` against the GitHub emulator (real bare git repositories behind a
//! GitHub-shaped REST API), the ureq-based `AwxDeployer` against the AWX emulator, and the
//! `HttpVerifier` against the AWX emulator's `/version/` page standing in for production.
//!
//! The world is `testkit::github_world`: the demo sandbox's repositories (shaped like Fragalysis:
//! backend and frontend with `production` branches and a tag that is only on staging; a stack
//! whose workflow pins `BE_IMAGE_TAG`/`FE_IMAGE_TAG` under its top-level `env:`), served as
//! `xchem/fragalysis-*`. CI is emulated as instant: component builds are green from the start,
//! and the stack's "build main" run succeeds the moment its tag exists.
//!
//! What is specified: a release converges with exactly one pin commit, one tag at it, one GitHub
//! release, one AWX job and one ticket comment edited in place; the release spends at most 25
//! requests of rate limit, an idle reconcile none, and a deployment history is read once; a
//! crash after any side effect, or any fault on any write (and on reads), ends converged with no
//! duplicate; a bad tag or a foreign tag changes nothing anywhere; a stale blob is re-read and
//! re-planned; a secret shadowing a pin is a warning; GitHub's refusals are shown with GitHub's
//! status and message and never the token.

use git2::Repository;
use stackrel::apply::{ApplyError, ApplyOutcome, Progress, Quiet};
use stackrel::config::RepoLocation;
use stackrel::demo::DEMO_WORKFLOW;
use stackrel::forge::{DeploymentRecord, DeploymentState, Forge};
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::emulator::awx;
use testkit::emulator::github::{Fault, FaultKind, GithubEmulator, RepoPermissions};
use testkit::github_world::*;
use testkit::sandbox::{
    assert_converged, commits_since, file_at, master, pinned, push_to_stack, tags,
};

/// Records every side effect; may stop the run after the N-th (a crash there) and may inject a
/// GitHub fault right after the first side effect whose description starts with a prefix (to
/// reach a request that only comes later in the run).
#[derive(Default)]
struct Script<'a> {
    crash_after: Option<usize>,
    inject_after: Option<(&'static str, Fault, &'a GithubEmulator)>,
    seen: Vec<String>,
}

impl Script<'_> {
    fn crash_after(n: usize) -> Self {
        Script {
            crash_after: Some(n),
            ..Script::default()
        }
    }
}

impl Progress for Script<'_> {
    fn after_side_effect(&mut self, what: &str) -> ControlFlow<()> {
        self.seen.push(what.to_string());
        if self
            .inject_after
            .as_ref()
            .is_some_and(|(prefix, _, _)| what.starts_with(prefix))
            && let Some((_, fault, github)) = self.inject_after.take()
        {
            github.inject(fault);
        }
        if Some(self.seen.len()) == self.crash_after {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// The converged end state of `VERSION`, counted on the services themselves: one pin commit
/// that changes only the pins, one tag at it, one GitHub release, one AWX job (successful), one
/// stackrel comment on the ticket and its label, the newest deployment verified, and the
/// component repositories untouched. Returns what is wrong, if anything.
fn converged_once(w: &World) -> Result<(), String> {
    let mut wrong = Vec::new();
    let new = commits_since(&w.sandbox, w.start);
    let pin = match new.as_slice() {
        [pin] => Some(*pin),
        _ => {
            wrong.push(format!("{} new commits on master, not 1", new.len()));
            None
        }
    };
    if let Some(pin) = pin {
        let before = file_at(&w.sandbox, w.start, WORKFLOW).unwrap();
        if file_at(&w.sandbox, pin, WORKFLOW) != Some(pinned(&before)) {
            wrong.push(
                "the pin commit's workflow is not the old one with only the pins changed".into(),
            );
        }
    }
    let tags = tags(&w.sandbox);
    if tags.len() != 1 || pin.is_none_or(|p| tags.get(VERSION) != Some(&p)) {
        wrong.push(format!(
            "tags {tags:?}, not only {VERSION} at the pin commit {pin:?}"
        ));
    }
    let releases = w.github.releases(STACK);
    if releases.len() != 1 || releases[0].tag_name != VERSION {
        let names: Vec<&str> = releases.iter().map(|r| r.tag_name.as_str()).collect();
        wrong.push(format!("GitHub releases {names:?}, not one for {VERSION}"));
    }
    let jobs = w.awx.jobs();
    if jobs.len() != 1 || awx_jobs_for(w, VERSION) != 1 || jobs[0].status != "successful" {
        let seen: Vec<String> = jobs
            .iter()
            .map(|j| format!("#{} {} {}", j.id, j.status, j.extra_vars))
            .collect();
        wrong.push(format!(
            "AWX jobs {seen:?}, not one successful job for {VERSION}"
        ));
    }
    let issue = w
        .github
        .issues(STACK)
        .into_iter()
        .find(|i| i.number == w.ticket.number)
        .unwrap();
    let ours = issue
        .comments
        .iter()
        .filter(|c| c.body.contains(MARKER))
        .count();
    if ours != 1 || issue.comments.len() != 1 {
        wrong.push(format!(
            "{} comments on the ticket ({ours} of them stackrel's), not 1",
            issue.comments.len()
        ));
    } else if !issue.comments[0].body.contains("live:") {
        wrong.push(format!(
            "the ticket comment does not report the release live: {}",
            issue.comments[0].body
        ));
    }
    if issue.labels != [LABEL] {
        wrong.push(format!("ticket labels {:?}, not [{LABEL}]", issue.labels));
    }
    let deployments = w.github.deployments(STACK);
    let newest = deployments
        .iter()
        .rev()
        .find(|d| d.payload["version"] == VERSION);
    match newest.and_then(|d| d.statuses.last()) {
        Some(s)
            if s.state == "success"
                && s.description
                    .as_deref()
                    .is_some_and(|d| d.starts_with("verified")) => {}
        other => wrong.push(format!(
            "the newest deployment of {VERSION} does not end verified: {other:?}"
        )),
    }
    if w.component_refs_now() != w.component_refs {
        wrong.push("a component repository's refs changed".into());
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// Nothing was written anywhere: no non-GET request reached GitHub, nothing changed in git, and
/// AWX has no job and got no POST.
fn assert_nothing_written(w: &World) {
    let log = w.github.requests();
    assert_eq!(
        writes(&log),
        Vec::<String>::new(),
        "no write reaches GitHub"
    );
    assert_eq!(master(&w.sandbox), w.start);
    assert!(w.github.releases(STACK).is_empty());
    assert!(w.github.deployments(STACK).is_empty());
    assert!(w.github.issues(STACK)[0].comments.is_empty());
    assert!(w.github.issues(STACK)[0].labels.is_empty());
    assert_eq!(w.component_refs_now(), w.component_refs);
    assert!(w.awx.jobs().is_empty(), "AWX has no job");
    assert_eq!(w.awx.count("POST", ""), 0, "AWX got no POST");
}

// --- A whole release --------------------------------------------------------------------------

#[test]
fn a_whole_release_converges_with_one_pin_commit_tag_release_awx_job_and_ticket_comment() {
    let w = world();
    let github = connect(&w);
    let outcome = apply_with(&w, &github, &mut Quiet).unwrap();
    match &outcome {
        ApplyOutcome::Converged { plan } => {
            assert_eq!(plan.version.to_string(), VERSION);
            assert!(plan.in_sync());
            assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        }
        other => panic!("expected convergence, got {other:#?}"),
    }
    converged_once(&w).unwrap();

    // The pin commit, its tag and its release.
    let pin = master(&w.sandbox);
    let repo = Repository::open(&w.sandbox.stack).unwrap();
    let commit = repo.find_commit(pin).unwrap();
    assert_eq!(
        commit.message(),
        Ok("build: Use of b/e 2026.08.1 f/e 2026.08.2")
    );
    assert_eq!(commit.parent_id(0).unwrap(), w.start);
    assert_eq!(tags(&w.sandbox)[VERSION], pin);
    let release = &w.github.releases(STACK)[0];
    assert_eq!(release.name.as_deref(), Some("Release 2026.08.3"));
    assert!(!release.draft && !release.prerelease);
    let body = release.body.as_deref().unwrap_or_default();
    assert!(
        body.contains("- backend: 2026.08.1") && body.contains("- frontend: 2026.08.2"),
        "{body}"
    );

    // AWX ran one job, with the version variable, and production reports the release.
    let jobs = w.awx.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].variable(VARIABLE).as_deref(), Some(VERSION));
    assert_eq!(w.awx.launches(), 1);

    // The ticket: one comment, created when the release was cut and edited in place when it went
    // live, and the label.
    let log = w.github.requests();
    let comments_path = format!("/issues/{}/comments", w.ticket.number);
    assert_eq!(
        count(&log, "POST", &comments_path),
        1,
        "{:#?}",
        writes(&log)
    );
    assert!(
        count(&log, "PATCH", "/issues/comments/") >= 1,
        "{:#?}",
        writes(&log)
    );
    let issue = &w.github.issues(STACK)[0];
    assert_eq!(issue.comments.len(), 1);
    assert!(
        issue.comments[0]
            .body
            .contains("live: production reports 2026.08.3")
    );
    assert!(issue.comments[0].body.contains(MARKER));
    assert_eq!(issue.labels, [LABEL]);

    // The durable record: one deployment of the tag's commit (its creation is the attempt),
    // with its outcome and verification as statuses.
    let deployments = w.github.deployments(STACK);
    assert_eq!(deployments.len(), 1);
    let deployment = &deployments[0];
    assert_eq!(deployment.sha, pin.to_string());
    assert_eq!(deployment.environment, "production");
    assert_eq!(deployment.payload["version"], VERSION);
    let statuses: Vec<(&str, &str)> = deployment
        .statuses
        .iter()
        .map(|s| {
            (
                s.state.as_str(),
                s.description.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("success", "deployed 2026.08.3"),
            ("success", "verified 2026.08.3 live"),
        ]
    );

    // Every write, in order: nothing sent twice, nothing refused.
    let expected = [
        "PUT /contents/",
        "POST /git/refs",
        "POST /releases",
        "POST /issues/1/comments",
        "POST /issues/1/labels",
        "POST /deployments",
        "POST /statuses",
        // The label is on the ticket since the cut: not sent again.
        "PATCH /issues/comments/",
        "POST /statuses",
    ];
    let sent = writes(&log);
    assert_eq!(sent.len(), expected.len(), "{sent:#?}");
    for (sent, expected) in sent.iter().zip(expected) {
        let (method, path) = expected.split_once(' ').unwrap();
        assert!(
            sent.starts_with(method)
                && sent.contains(path)
                && !sent.contains("-> 4")
                && !sent.contains("-> 5"),
            "{sent} is not {expected}"
        );
    }
    // The forge's own count agrees with the emulator's log.
    let stats = github.stats();
    let total: u64 = stats.by_method_status.values().sum();
    assert_eq!(total as usize, log.len(), "{:?}", stats.by_method_status);
    let counted = log.iter().filter(|r| r.counted).count() as u64;
    assert_eq!(stats.counted, counted);
}

#[test]
fn an_idle_reconcile_after_convergence_costs_no_rate_limit() {
    let w = world();
    // With admin, secrets and variables are listed, and must be asked for conditionally too.
    w.github.set_permissions(
        STACK,
        RepoPermissions {
            admin: true,
            push: true,
            pull: true,
        },
    );
    let github = connect(&w);
    assert_converged(&apply_with(&w, &github, &mut Quiet).unwrap());
    let counted_before = github.stats().counted;
    let remaining_before = w.github.rate_limit_remaining();
    w.github.clear_log();

    let plan = plan_with(&w, &github);
    assert!(plan.in_sync(), "{plan:#?}");

    let log = w.github.requests();
    assert!(!log.is_empty(), "the reconcile asked GitHub");
    let costly: Vec<String> = log
        .iter()
        .filter(|r| r.counted || r.method != "GET" || r.status != 304)
        .map(|r| format!("{} {}?{} -> {}", r.method, r.path, r.query, r.status))
        .collect();
    assert!(
        costly.is_empty(),
        "requests that were not free 304s: {costly:#?}"
    );
    assert_eq!(github.stats().counted, counted_before);
    assert_eq!(w.github.rate_limit_remaining(), remaining_before);
}

#[test]
fn an_idle_reconcile_costs_no_rate_limit_even_when_the_token_cannot_list_secrets() {
    // A bot token with contents: write but no admin cannot list secrets (403): asking again on
    // every reconcile would spend rate limit for an answer already known.
    let w = world();
    w.github.set_permissions(
        STACK,
        RepoPermissions {
            admin: false,
            push: true,
            pull: true,
        },
    );
    let github = connect(&w);
    assert_converged(&apply_with(&w, &github, &mut Quiet).unwrap());
    let counted_before = github.stats().counted;
    w.github.clear_log();

    assert!(plan_with(&w, &github).in_sync());
    let counted: Vec<String> = w
        .github
        .requests()
        .iter()
        .filter(|r| r.counted)
        .map(|r| format!("{} {}?{} -> {}", r.method, r.path, r.query, r.status))
        .collect();
    assert!(counted.is_empty(), "{counted:#?}");
    assert_eq!(github.stats().counted, counted_before);
}

#[test]
fn a_whole_release_spends_at_most_25_requests_of_github_rate_limit() {
    // Five observations (one before each of pin, cut, deploy and report, and the last one) of
    // about a dozen reads each are mostly 304s, which GitHub does not count. What counts: the
    // first answer to each read, the answers our own writes changed, and the writes. One read
    // of all tags answers both the release tag and the tags released; a deployment starts
    // without a status; the release stackrel made is not asked about again; and a classic
    // token refused the secrets is not asked for the variables.
    // GitHub stamps a deployment's `updated_at` with its newest status, so a release whose last
    // two statuses fall in different seconds reads the changed deployments list once more (26):
    // the clock is frozen so that the count does not depend on where a second boundary falls.
    let w = world();
    w.github.freeze_clock();
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    let log = w.github.requests();
    let counted: Vec<String> = log
        .iter()
        .filter(|r| r.counted)
        .map(|r| format!("{} {}?{} -> {}", r.method, r.path, r.query, r.status))
        .collect();
    assert!(
        counted.len() <= 25,
        "{} of {} requests counted against the rate limit: {counted:#?}",
        counted.len(),
        log.len()
    );
}

#[test]
fn a_history_of_deployments_is_read_once_not_on_every_observation() {
    // Six earlier releases, each deployed and verified. Their statuses are final: a process
    // reads them once, not once per deployment on every observation of every reconcile.
    let w = world();
    let history = [
        "2026.02.1",
        "2026.03.1",
        "2026.04.1",
        "2026.05.1",
        "2026.06.1",
        "2026.07.1",
    ];
    let repo = Repository::open(&w.sandbox.stack).unwrap();
    let stack = RepoLocation::parse(STACK).unwrap();
    let earlier = connect(&w);
    for version in history {
        repo.reference(
            &format!("refs/tags/{version}"),
            w.start,
            false,
            "an earlier release",
        )
        .unwrap();
        for state in [DeploymentState::Started, DeploymentState::Verified] {
            let record = DeploymentRecord {
                version: version.into(),
                commit: w.start.to_string(),
                state,
                at: String::new(),
                detail: String::new(),
                images: Default::default(),
            };
            earlier.record_deployment(&stack, &record).unwrap();
        }
    }
    w.github.clear_log();

    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    let log = w.github.requests();
    let status_reads = count(&log, "GET", "/statuses");
    assert!(
        status_reads <= history.len(),
        "{status_reads} reads of deployment statuses for {} earlier deployments",
        history.len()
    );
    assert_eq!(
        w.github.releases(STACK).len(),
        1,
        "the release converged on top of its history"
    );
}

// --- Crashes ------------------------------------------------------------------------------------

/// The side effects of one uninterrupted run, in order.
fn side_effects_of_a_full_run() -> Vec<String> {
    let w = world();
    let mut script = Script::default();
    assert_converged(&apply_fresh(&w, &mut script).unwrap());
    script.seen
}

#[test]
fn a_crash_after_any_side_effect_then_a_restart_converges_without_duplicates() {
    let full = side_effects_of_a_full_run();
    // Pin, cut (tag, release, ticket), deploy start, the AWX job, its outcome, the report.
    // Verification is part of observing once a deploy has started, and production is live at
    // once here, so it never runs as a step of its own.
    let kinds: Vec<&str> = full
        .iter()
        .map(|e| e.split([' ', ';']).next().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "pinned", "tagged", "recorded", "ran", "deployed", "recorded"
        ],
        "{full:#?}"
    );
    let mut failures = Vec::new();
    for (n, effect) in full.iter().enumerate().map(|(i, e)| (i + 1, e)) {
        let w = world();
        let mut first = Script::crash_after(n);
        match apply_fresh(&w, &mut first) {
            Ok(ApplyOutcome::Interrupted { .. }) => {}
            other => {
                failures.push(format!(
                    "crash after \"{effect}\": not interrupted: {other:?}"
                ));
                continue;
            }
        }
        // A restart: a new process, so a new GitHub client with an empty ETag cache.
        let mut second = Script::default();
        let result = match apply_fresh(&w, &mut second) {
            Ok(ApplyOutcome::Converged { .. }) => converged_once(&w),
            other => Err(format!("the restart did not converge: {other:?}")),
        }
        .and_then(|()| {
            let once: Vec<&str> = ["pinned", "tagged"]
                .into_iter()
                .filter(|p| {
                    first
                        .seen
                        .iter()
                        .chain(&second.seen)
                        .filter(|e| e.starts_with(p))
                        .count()
                        != 1
                })
                .collect();
            if once.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{once:?} not exactly once: before {:?}, after {:?}",
                    first.seen, second.seen
                ))
            }
        });
        if let Err(e) = result {
            failures.push(format!("crash after \"{effect}\": {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "failed crash points:\n{}",
        failures.join("\n")
    );
}

// --- Faults -------------------------------------------------------------------------------------

/// Where a fault lands.
#[derive(Clone, Copy)]
enum Target {
    /// The next GitHub request with this method whose path contains this.
    Github(&'static str, &'static str),
    /// The same, armed only after the side effect that starts with the prefix (a later call).
    GithubAfter(&'static str, &'static str, &'static str),
    /// The AWX launch.
    AwxLaunch,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Status502,
    RateLimited403,
    RateLimited429,
    Drop,
    LoseResponse,
}

impl Kind {
    fn github(self) -> FaultKind {
        match self {
            Kind::Status502 => FaultKind::Status(502),
            // GitHub's secondary limit often comes as a 403 with no retry-after at all.
            Kind::RateLimited403 => FaultKind::RateLimited {
                status: 403,
                retry_after_secs: None,
            },
            Kind::RateLimited429 => FaultKind::RateLimited {
                status: 429,
                retry_after_secs: Some(1),
            },
            Kind::Drop => FaultKind::DropConnection,
            Kind::LoseResponse => FaultKind::LoseResponse,
        }
    }

    fn awx(self) -> Option<awx::Fault> {
        match self {
            Kind::Status502 => Some(awx::Fault::Status(502)),
            Kind::Drop => Some(awx::Fault::Drop),
            Kind::LoseResponse => Some(awx::Fault::LoseResponse),
            // AWX has no rate limit to honour.
            Kind::RateLimited403 | Kind::RateLimited429 => None,
        }
    }
}

struct CaseResult {
    step: &'static str,
    kind: Kind,
    applies: usize,
    first: String,
    fault_hit: bool,
    /// GitHub deployment objects of the version (an attempt whose creation was unclear may
    /// leave one without statuses; the record of what was deployed is the newest).
    deployments: usize,
    verdict: Result<(), String>,
}

fn outcome_word(outcome: &Result<ApplyOutcome, ApplyError>) -> String {
    match outcome {
        Ok(ApplyOutcome::Converged { .. }) => "converged".into(),
        Ok(ApplyOutcome::Blocked { step, .. }) => {
            format!("blocked at {}: {}", step.title(), step.reason)
        }
        Ok(ApplyOutcome::TimedOut { step, .. }) => format!("timed out at {}", step.title()),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("error: {e}"),
    }
}

/// Injects one fault, applies (and applies once more, as the next reconcile would, if the first
/// run ends without converging), and checks the end state.
fn fault_case(step: &'static str, target: Target, kind: Kind) -> Option<CaseResult> {
    let w = world();
    let mut script = Script::default();
    match target {
        Target::Github(method, path) => w.github.inject(Fault {
            method: Some(method.into()),
            path_contains: path.into(),
            kind: kind.github(),
            times: 1,
        }),
        Target::GithubAfter(after, method, path) => {
            script.inject_after = Some((
                after,
                Fault {
                    method: Some(method.into()),
                    path_contains: path.into(),
                    kind: kind.github(),
                    times: 1,
                },
                &w.github,
            ));
        }
        Target::AwxLaunch => w.awx.inject("POST", "/launch/", kind.awx()?, 1),
    }
    let first = apply_fresh(&w, &mut script);
    let mut applies = 1;
    let first_word = outcome_word(&first);
    if !matches!(first, Ok(ApplyOutcome::Converged { .. })) {
        applies = 2;
        let second = apply_fresh(&w, &mut Quiet);
        if !matches!(second, Ok(ApplyOutcome::Converged { .. })) {
            return Some(CaseResult {
                step,
                kind,
                applies,
                first: first_word,
                fault_hit: true,
                deployments: w.github.deployments(STACK).len(),
                verdict: Err(format!(
                    "the second apply did not converge: {}",
                    outcome_word(&second)
                )),
            });
        }
    }
    let fault_hit =
        match target {
            Target::AwxLaunch => w.awx.requests().iter().any(|r| {
                r.path.contains("/launch/") && r.method == "POST" && r.status != Some(201)
            }),
            _ => w.github.requests().iter().any(|r| {
                r.dropped || r.status == 502 || r.status == 429 || (r.status == 403 && !r.counted)
            }),
        };
    Some(CaseResult {
        step,
        kind,
        applies,
        first: first_word,
        fault_hit,
        deployments: w.github.deployments(STACK).len(),
        verdict: converged_once(&w),
    })
}

fn table(results: &[CaseResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| write | fault | applies | first apply | fault hit | deployments | end state |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for r in results {
        let verdict = match &r.verdict {
            Ok(()) => "converged once".to_string(),
            Err(e) => format!("WRONG: {e}"),
        };
        let first: String = r.first.chars().take(90).collect();
        let _ = writeln!(
            out,
            "| {} | {:?} | {} | {} | {} | {} | {} |",
            r.step, r.kind, r.applies, first, r.fault_hit, r.deployments, verdict
        );
    }
    out
}

/// Every write a release sends, each at the moment it is sent.
const WRITES: &[(&str, Target)] = &[
    ("PUT contents (pin)", Target::Github("PUT", "/contents/")),
    ("POST git/refs (tag)", Target::Github("POST", "/git/refs")),
    ("POST releases", Target::Github("POST", "/releases")),
    (
        "POST issue comment (at cut)",
        Target::Github("POST", "/comments"),
    ),
    ("POST labels (at cut)", Target::Github("POST", "/labels")),
    ("POST deployments", Target::Github("POST", "/deployments")),
    // A deployment starts without a status (its creation says as much); the first status
    // is the outcome.
    (
        "POST deployment status (outcome)",
        Target::GithubAfter("ran deploy", "POST", "/statuses"),
    ),
    (
        "PATCH issue comment (at report)",
        Target::Github("PATCH", "/issues/comments/"),
    ),
    // The label is sent again at report only when it could not be added at the cut, which the
    // "at cut" rows cover.
    (
        "POST deployment status (verified)",
        Target::GithubAfter("deployed", "POST", "/statuses"),
    ),
    ("AWX launch", Target::AwxLaunch),
];

const KINDS: [Kind; 5] = [
    Kind::Status502,
    Kind::RateLimited403,
    Kind::RateLimited429,
    Kind::Drop,
    Kind::LoseResponse,
];

/// Each write of a release × each fault, once. A run that does not converge would be followed
/// by a second `apply` (a restart, as the next reconcile), and the table says how many ran; but
/// none needs it, and the test holds that:
/// - 403/429 rate limits are waited out for their `retry-after` and the same request re-sent
///   (GitHub did nothing), inside the one request;
/// - a 502, a dropped connection or a lost response on a GitHub write is `Unclear`, which the
///   loop treats like a lost race: it observes again and the plan decides, so a write that did
///   happen (lost response) counts as done and one that did not is sent again, in the same run;
/// - ticket updates at the cut are a courtesy whose failure the report step makes good;
/// - an unclear AWX launch is never sent again inside the run: a job for the version that AWX
///   lists is followed (a lost response); otherwise (a 502 or a dropped connection before AWX
///   made the job) the run stops unsettled, its start record stays the newest, and the second
///   apply looks at AWX's jobs, finds none, and launches once.
#[test]
fn any_fault_on_any_write_ends_converged_with_no_duplicate_side_effect() {
    let cases: Vec<(&str, Target, Kind)> = WRITES
        .iter()
        .flat_map(|(step, target)| KINDS.iter().map(move |kind| (*step, *target, *kind)))
        .collect();
    // Two workers: the cases are independent worlds, and half of the waiting is retry-after.
    let results: Vec<CaseResult> = std::thread::scope(|scope| {
        let (left, right) = cases.split_at(cases.len() / 2);
        let workers: Vec<_> = [left, right]
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|(step, target, kind)| fault_case(step, *target, *kind))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let table = table(&results);
    // One GitHub deployment object too: an attempt whose creation was unclear reuses it.
    let failed = results.iter().any(|r| {
        r.verdict.is_err() || !r.fault_hit || r.applies != applies(r) || r.deployments != 1
    });
    assert!(!failed, "fault matrix:\n{table}");
    println!("fault matrix:\n{table}");
}

/// How many applies a case takes: one, except where an AWX launch never reached AWX and the
/// first run stopped rather than risk sending it twice.
fn applies(r: &CaseResult) -> usize {
    match (r.step, r.kind) {
        ("AWX launch", Kind::Status502 | Kind::Drop) => 2,
        _ => 1,
    }
}

#[test]
fn a_502_on_a_read_is_retried_within_the_same_observation() {
    let w = world();
    w.github.inject(Fault {
        method: Some("GET".into()),
        path_contains: "/compare/".into(),
        kind: FaultKind::Status(502),
        times: 2,
    });
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    converged_once(&w).unwrap();
    let log = w.github.requests();
    let compares: Vec<(u16, &str)> = log
        .iter()
        .filter(|r| r.path.contains("/compare/"))
        .take(3)
        .map(|r| (r.status, r.path.as_str()))
        .collect();
    assert_eq!(compares[0].0, 502);
    assert_eq!(compares[1].0, 502);
    assert_eq!(compares[2].0, 200);
    assert_eq!(compares[0].1, compares[2].1, "the same read, asked again");
}

#[test]
fn a_429_on_a_read_is_waited_out_for_its_retry_after() {
    let w = world();
    w.github.inject(Fault {
        method: Some("GET".into()),
        path_contains: "/git/matching-refs/tags".into(),
        kind: FaultKind::RateLimited {
            status: 429,
            retry_after_secs: Some(1),
        },
        times: 1,
    });
    let started = Instant::now();
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry-after second was waited out"
    );
    converged_once(&w).unwrap();
    let log = w.github.requests();
    let first_two: Vec<(u16, &str)> = log
        .iter()
        .filter(|r| r.path.contains("/git/matching-refs/tags"))
        .take(2)
        .map(|r| (r.status, r.path.as_str()))
        .collect();
    assert_eq!(first_two[0].0, 429);
    assert_eq!(first_two[1].0, 200);
    assert_eq!(first_two[0].1, first_two[1].1);
}

// --- Refusals that change nothing ---------------------------------------------------------------

#[test]
fn a_release_blocked_by_a_tag_not_on_production_changes_nothing_on_any_service() {
    // 2026.08.9 exists only on the backend's staging branch (and even built green there).
    let w = world_with(("2026.08.9", "2026.08.2"));
    let outcome = apply_fresh(&w, &mut Quiet).unwrap();
    match &outcome {
        ApplyOutcome::Blocked { step, .. } => {
            assert_eq!(step.title(), "preflight backend");
            assert_eq!(step.code(), "tag-not-on-branch", "{}", step.reason);
            assert!(
                step.reason.to_string().contains("not on branch production"),
                "{}",
                step.reason
            );
        }
        other => panic!("expected a blocked release, got {other:#?}"),
    }
    assert_nothing_written(&w);
}

#[test]
fn a_release_tag_pushed_by_someone_else_at_another_commit_blocks_with_nothing_written() {
    let w = world();
    // Someone tagged the release at today's master, which still pins the old versions.
    Repository::open(&w.sandbox.stack)
        .unwrap()
        .reference(
            &format!("refs/tags/{VERSION}"),
            w.start,
            false,
            "someone else",
        )
        .unwrap();
    let outcome = apply_fresh(&w, &mut Quiet).unwrap();
    match &outcome {
        ApplyOutcome::Blocked { step, .. } => {
            assert_eq!(step.title(), "pin");
            assert_eq!(step.code(), "tag-conflict", "{}", step.reason);
            assert!(
                step.reason.to_string().contains("already exists"),
                "{}",
                step.reason
            );
            assert!(
                step.reason.to_string().contains("instead of"),
                "{}",
                step.reason
            );
        }
        other => panic!("expected a blocked release, got {other:#?}"),
    }
    assert_nothing_written(&w);
    assert_eq!(
        tags(&w.sandbox)[VERSION],
        w.start,
        "their tag is left alone"
    );
}

// --- Races and warnings -------------------------------------------------------------------------

#[test]
fn a_workflow_edited_between_observe_and_write_is_a_409_and_the_pin_lands_on_top_of_it() {
    let w = world();
    let edited = DEMO_WORKFLOW.replace(
        "# Builds the stack image",
        "# Edited by hand. Builds the stack image",
    );
    // Someone else pushes just before stackrel's workflow write.
    let theirs = Arc::new(Mutex::new(None));
    let (stack, pushed, text) = (w.sandbox.stack.clone(), theirs.clone(), edited.clone());
    w.github.before_request("PUT", "/contents/", move || {
        let commit = push_to_stack(&stack, &[(WORKFLOW, &text)], "docs: explain the build");
        *pushed.lock().unwrap() = Some(commit);
    });
    let github = connect(&w);
    assert_converged(&apply_with(&w, &github, &mut Quiet).unwrap());

    let theirs = theirs.lock().unwrap().expect("the other edit happened");
    let log = w.github.requests();
    let puts: Vec<u16> = log
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.status)
        .collect();
    assert_eq!(
        puts,
        [409, 200],
        "the stale blob is refused, then re-read and re-planned"
    );
    let new = commits_since(&w.sandbox, w.start);
    assert_eq!(new.len(), 2, "their commit and one pin commit");
    let pin = new[0];
    let repo = Repository::open(&w.sandbox.stack).unwrap();
    assert_eq!(repo.find_commit(pin).unwrap().parent_id(0).unwrap(), theirs);
    assert_eq!(
        file_at(&w.sandbox, pin, WORKFLOW).unwrap(),
        pinned(&edited),
        "their edit is kept and only the pins change on top of it"
    );
    assert_eq!(tags(&w.sandbox)[VERSION], pin);
    assert_eq!(w.github.releases(STACK).len(), 1);
    assert_eq!(awx_jobs_for(&w, VERSION), 1);
}

#[test]
fn a_repository_secret_named_like_a_pin_is_a_warning_in_the_plan() {
    let w = world();
    // Listing secrets needs admin on the repository.
    w.github.set_permissions(
        STACK,
        RepoPermissions {
            admin: true,
            push: true,
            pull: true,
        },
    );
    w.github.add_secret(STACK, "BE_IMAGE_TAG");
    let github = connect(&w);
    let plan = plan_with(&w, &github);
    assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
    assert!(
        plan.warnings[0].contains("BE_IMAGE_TAG"),
        "{}",
        plan.warnings[0]
    );
    assert!(plan.warnings[0].contains(WORKFLOW), "{}", plan.warnings[0]);
    assert!(!plan.warnings[0].contains("FE_IMAGE_TAG"));
}

// --- Errors -------------------------------------------------------------------------------------

#[test]
fn a_bad_token_is_reported_with_githubs_401_and_message_and_never_the_token() {
    let w = world();
    let bad = "ghp_notTheRightToken00000000000000000000";
    let github = connect_with(&w, bad);
    let err = apply_with(&w, &github, &mut Quiet).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(matches!(err, ApplyError::Observe(_)), "{text}");
    assert!(text.contains("401"), "{text}");
    assert!(text.contains("Bad credentials"), "{text}");
    assert!(
        !text.contains(bad) && !text.contains(TOKEN),
        "the error shows no token"
    );
    assert_nothing_written(&w);
}

#[test]
fn a_refused_write_is_reported_with_githubs_status_and_message() {
    // The token can read the stack but not push to it: GitHub answers 403 with its message.
    let w = world();
    w.github.set_permissions(
        STACK,
        RepoPermissions {
            admin: false,
            push: false,
            pull: true,
        },
    );
    let err = apply_fresh(&w, &mut Quiet).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ApplyError::Step { .. }), "{text}");
    assert!(text.contains("PUT") && text.contains("403"), "{text}");
    let put = w
        .github
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("the pin was attempted");
    assert_eq!(put.status, 403);
    assert!(!text.contains(TOKEN));
    assert_eq!(master(&w.sandbox), w.start);
}

/// The world with `[deploy] launched_by = "ci"`: the stack's CI launches the template when the
/// release tag is pushed (here, when the release is created), as Fragalysis' build-main does.
fn ci_launched_world(job_status: &'static str) -> World {
    let mut w = world();
    let config = config_text(&w.github, &w.awx).replace(
        "variable = \"stack_image_tag\"\n",
        "variable = \"stack_image_tag\"\nlaunched_by = \"ci\"\n",
    );
    w.sandbox
        .commit_desired(&[("stackrel.toml", &config)], "The stack's CI deploys")
        .unwrap();
    let (config, releases) = testkit::sandbox::load(&w.sandbox);
    assert!(
        format!("{:?}", config.deploy).contains("Ci"),
        "{:?}",
        config.deploy
    );
    w.config = config;
    w.releases = releases;
    let ci = w.awx.someone_else();
    w.github.before_request("POST", "/releases", move || {
        ci.launch(1, VERSION, job_status);
    });
    w
}

#[test]
fn a_deploy_the_stack_ci_launched_is_followed_and_never_launched_again() {
    let w = ci_launched_world("successful");
    let outcome = apply_fresh(&w, &mut Quiet).unwrap();
    assert_converged(&outcome);
    assert_eq!(w.awx.launches(), 0, "stackrel never launches the template");
    assert_eq!(
        awx_jobs_for(&w, VERSION),
        1,
        "the CI's job is the one deploy"
    );
}

#[test]
fn a_failed_job_the_stack_ci_launched_is_a_failed_deploy_whatever_its_workflow_shows() {
    let w = ci_launched_world("failed");
    let outcome = apply_fresh(&w, &mut Quiet).unwrap();
    let ApplyOutcome::Blocked { step, .. } = outcome else {
        panic!("expected a blocked deploy, got {outcome:#?}")
    };
    assert_eq!(step.title(), "deploy");
    assert_eq!(step.code(), "ci-deploy-failed", "{}", step.reason);
    assert_eq!(w.awx.launches(), 0, "stackrel never launches the template");
}

#[test]
fn deployments_made_by_other_tools_cost_no_status_reads() {
    let w = world();
    for _ in 0..40 {
        w.github
            .add_foreign_deployment(STACK, &w.start.to_string(), "production");
    }
    w.github.clear_log();

    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    let log = w.github.requests();
    let foreign: Vec<u64> = w
        .github
        .deployments(STACK)
        .iter()
        .filter(|d| d.payload.get("tool").is_some())
        .map(|d| d.id)
        .collect();
    let foreign_reads = log
        .iter()
        .filter(|r| r.method == "GET")
        .filter(|r| {
            foreign
                .iter()
                .any(|id| r.path.contains(&format!("/deployments/{id}/statuses")))
        })
        .count();
    assert_eq!(
        foreign_reads, 0,
        "reads of other tools' deployment statuses"
    );
}

#[test]
fn only_the_newest_deployment_of_a_version_has_its_statuses_read() {
    let w = world();
    let repo = Repository::open(&w.sandbox.stack).unwrap();
    let stack = RepoLocation::parse(STACK).unwrap();
    let earlier = connect(&w);
    let version = "2026.07.1";
    repo.reference(
        &format!("refs/tags/{version}"),
        w.start,
        false,
        "an earlier release",
    )
    .unwrap();
    // Three attempts: two failed, the third verified.
    for state in [
        DeploymentState::Started,
        DeploymentState::Failed,
        DeploymentState::Started,
        DeploymentState::Failed,
        DeploymentState::Started,
        DeploymentState::Verified,
    ] {
        let record = DeploymentRecord {
            version: version.into(),
            commit: w.start.to_string(),
            state,
            at: String::new(),
            detail: String::new(),
            images: Default::default(),
        };
        earlier.record_deployment(&stack, &record).unwrap();
    }
    assert_eq!(w.github.deployments(STACK).len(), 3);
    w.github.clear_log();

    let records = connect(&w).deployments(&stack).unwrap();
    let of_version: Vec<_> = records.iter().filter(|r| r.version == version).collect();
    assert_eq!(of_version.len(), 1);
    assert_eq!(of_version[0].state, DeploymentState::Verified);
    assert_eq!(count(&w.github.requests(), "GET", "/statuses"), 1);
}
