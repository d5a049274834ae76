//! Specifies stackrel on a replica of the real xchem/fragalysis-stack (`testkit::fragalysis`):
//! the project's 68 real releases cut by hand for years, 2026.08.3 tagged on a merge after its
//! pin commit, a later commit on master. Taking such a stack over must redeploy nothing, refuse a
//! downgrade, tag the right commit, hold side effects outside the deploy windows in the
//! configured time zone, and never call a release verified that nothing verified. Each test
//! asserts on reasons' stable codes and on the world: refs, deploys, deployment records.
//!
//! Where the real files are absent (`../shared/fixtures/`), each test says so and passes.

use crate::apply_local::blocked_step;
use crate::cli_plan_apply::{assert_exit, stackrel, stdout};
use crate::plan::step;
use chrono::{DateTime, Utc};
use git2::Oid;
use stackrel::apply::{ApplyOptions, ApplyOutcome, Quiet, apply, preview};
use stackrel::forge::{DeploymentState, short};
use stackrel::plan::{Plan, PlanOptions};
use stackrel::window::WindowState;
use std::collections::BTreeMap;
use std::time::Duration;
use tempfile::TempDir;
use testkit::fragalysis::{LIVE, NEW_BACKEND, Options, Replica, replica};
use testkit::sandbox::{
    all_refs, assert_converged, changed_paths, commit_release, deployment_records, load, master,
    push_to_stack, tag_commit,
};

const WORKFLOW: &str = ".github/workflows/build-main.yaml";
/// The frontend 2026.08.3 runs.
const LIVE_FRONTEND: &str = "2026.08.2";
/// The backend 2026.08.3 runs.
const LIVE_BACKEND: &str = "2026.08.1";
/// The next release.
const NEXT: &str = "2026.08.4";
/// Fragalysis' deploy window: 09:00 to 16:59, Monday to Thursday.
const WINDOW: &str = "* * 9-16 * * Mon-Thu";

fn with_verify() -> Option<(TempDir, Replica)> {
    replica(&Options::default())
}

fn without_verify() -> Option<(TempDir, Replica)> {
    replica(&Options {
        verify: false,
        ..Options::default()
    })
}

fn apply_options(plan: PlanOptions) -> ApplyOptions {
    ApplyOptions {
        plan,
        gate_timeout: Duration::from_secs(2),
        poll_start: Duration::from_millis(2),
        poll_max: Duration::from_millis(10),
        ..ApplyOptions::default()
    }
}

/// One `stackrel apply` of the declared release `version` through the backends the replica's
/// config names, as the command line builds them.
fn apply_version(replica: &Replica, version: &str, plan: PlanOptions) -> ApplyOutcome {
    let (config, releases) = load(&replica.sandbox);
    let release = releases
        .iter()
        .find(|r| r.version.to_string() == version)
        .expect("the release is declared");
    let backends = stackrel::backends::build(&config, &replica.sandbox.desired).unwrap();
    let options = apply_options(plan);
    apply(
        &config,
        release,
        &releases,
        &backends.as_apply(),
        &options,
        &mut Quiet,
    )
    .unwrap()
}

/// What `stackrel plan` shows for the newest declared release.
fn plan_newest(replica: &Replica) -> Plan {
    let (config, releases) = load(&replica.sandbox);
    let backends = stackrel::backends::build(&config, &replica.sandbox.desired).unwrap();
    let newest = releases.last().unwrap();
    preview(
        &config,
        newest,
        &releases,
        &backends.as_apply(),
        PlanOptions::default(),
    )
    .unwrap()
}

/// Nothing happened to the world since `before` (every ref of every repository): no commit, no
/// tag, no deployment record, and no deploy ran.
#[track_caller]
fn assert_untouched(r: &Replica, before: &BTreeMap<String, String>) {
    assert_eq!(&all_refs(&r.sandbox), before, "no ref moved");
    assert_eq!(r.sandbox.deploy_count(), 0, "nothing was deployed");
    assert!(
        deployment_records(&r.sandbox).is_empty(),
        "nothing was recorded"
    );
}

/// The line of `stackrel status` or `history` output for `version`.
#[track_caller]
fn row<'t>(table: &'t str, version: &str) -> &'t str {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(version))
        .unwrap_or_else(|| panic!("no row for {version} in:\n{table}"))
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// The deploy windows of the replica's config at `now`, in its `[daemon] timezone`.
fn window_at(replica: &Replica, now: &str) -> Option<WindowState> {
    let (config, _) = load(&replica.sandbox);
    stackrel::window::state(&config.daemon.windows, config.daemon.timezone, at(now))
}

// --- The replica ------------------------------------------------------------------------------

#[test]
fn the_replica_has_the_real_shape_merge_tagged_after_its_pin_commit_and_a_later_tip() {
    let Some((_dir, r)) = with_verify() else {
        return;
    };
    let stack = git2::Repository::open(&r.sandbox.stack).unwrap();
    let merge = stack.find_commit(r.merge).unwrap();
    let parents: Vec<Oid> = merge.parent_ids().collect();
    assert_eq!(parents.len(), 2, "2026.08.3 is tagged on a merge");
    assert_eq!(
        parents[1], r.pin_commit,
        "the merge brings in the pin commit"
    );
    assert_eq!(tag_commit(&r.sandbox.stack, LIVE), Some(r.merge));
    assert_eq!(master(&r.sandbox), r.tip);
    assert_eq!(
        stack.find_commit(r.tip).unwrap().parent_id(0).unwrap(),
        r.merge
    );
    assert_eq!(changed_paths(&r.sandbox, r.tip), ["Dockerfile"]);
    assert_eq!(
        tag_commit(&r.sandbox.stack, "2024.09.2"),
        tag_commit(&r.sandbox.stack, "2024.09.3"),
        "two real releases share one commit"
    );
    let (_, releases) = load(&r.sandbox);
    assert_eq!(releases.len(), 68);
    for release in &releases {
        assert!(
            tag_commit(&r.sandbox.stack, &release.version.to_string()).is_some(),
            "{} is tagged",
            release.version
        );
    }
}

#[test]
fn production_tags_leave_out_the_release_candidate_and_the_two_part_tag() {
    let Some((_dir, r)) = with_verify() else {
        return;
    };
    let (config, releases) = load(&r.sandbox);
    let backends = stackrel::backends::build(&config, &r.sandbox.desired).unwrap();
    let observed = stackrel::observation::observe(
        &config,
        releases.last().unwrap(),
        &releases,
        &backends.as_apply(),
    )
    .unwrap();
    let names: Vec<&str> = observed
        .stack
        .released
        .tags
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    for tag in testkit::fragalysis::NOT_PRODUCTION_TAGS {
        assert!(tag_commit(&r.sandbox.stack, tag).is_some(), "{tag} exists");
        assert!(!names.contains(&tag), "{tag} is not a production release");
    }
    assert!(names.contains(&testkit::fragalysis::SEMVER_TAG));
    let previous = observed
        .stack
        .released
        .previous
        .as_ref()
        .map(|t| t.name.as_str());
    assert_eq!(previous, Some("2026.08.2"));
}

// --- Adoption ---------------------------------------------------------------------------------

#[test]
fn a_release_the_verifier_shows_live_plans_nothing_and_applies_nothing() {
    let Some((_dir, r)) = with_verify() else {
        return;
    };
    r.production_runs(LIVE);
    let before = all_refs(&r.sandbox);
    let plan = plan_newest(&r);
    assert!(plan.in_sync(), "{plan:#?}");
    assert_eq!(step(&plan, "deploy").code(), "live-by-evidence");
    assert_exit(&stackrel(&r.sandbox.desired, &["plan"]), 0);
    assert_converged(&apply_version(&r, LIVE, PlanOptions::default()));
    assert_untouched(&r, &before);
}

#[test]
fn with_no_evidence_the_plan_blocks_at_deploy_and_names_adopt() {
    let Some((_dir, r)) = without_verify() else {
        return;
    };
    let plan = plan_newest(&r);
    let blocked = plan.blocked().expect("the plan is blocked");
    assert_eq!(blocked.title(), "deploy");
    assert_eq!(blocked.code(), "deploy-unknown");
    let text = blocked.reason.to_string();
    assert!(text.contains("stackrel adopt 2026.08.3"), "{text}");
    assert_exit(&stackrel(&r.sandbox.desired, &["plan"]), 1);
}

#[test]
fn adopt_records_the_release_as_live_and_never_deploys() {
    let Some((_dir, r)) = without_verify() else {
        return;
    };
    let before = all_refs(&r.sandbox);
    assert_exit(&stackrel(&r.sandbox.desired, &["adopt", "--yes"]), 0);
    let records = deployment_records(&r.sandbox);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].version, LIVE);
    assert_eq!(records[0].state, DeploymentState::Adopted);
    assert_eq!(records[0].commit, r.merge.to_string());
    assert_eq!(r.sandbox.deploy_count(), 0);
    let mut after = all_refs(&r.sandbox);
    after.remove("stack:refs/notes/stackrel-deployments");
    assert_eq!(after, before, "only the record was written");

    assert!(plan_newest(&r).in_sync());
    assert_exit(&stackrel(&r.sandbox.desired, &["plan"]), 0);
    let status = stdout(&stackrel(&r.sandbox.desired, &["status"]));
    assert!(row(&status, LIVE).contains("live (adopted)"), "{status}");
}

#[test]
fn a_release_cut_by_hand_that_the_verifier_shows_not_live_is_deployed_not_adopted() {
    let Some((_dir, r)) = with_verify() else {
        return;
    };
    r.production_runs("2026.08.2");
    let plan = plan_newest(&r);
    assert_eq!(
        step(&plan, "deploy").code(),
        "run-deploy-command",
        "{plan:#?}"
    );
    assert_converged(&apply_version(&r, LIVE, PlanOptions::default()));
    assert_eq!(r.sandbox.deploy_count(), 1);
    assert_eq!(
        tag_commit(&r.sandbox.stack, LIVE),
        Some(r.merge),
        "the tag stays"
    );
    assert_eq!(master(&r.sandbox), r.tip, "nothing was pinned");
    let records = deployment_records(&r.sandbox);
    let last = records.last().map(|rec| (rec.version.as_str(), rec.state));
    assert_eq!(last, Some((LIVE, DeploymentState::Verified)));
}

// --- Order ------------------------------------------------------------------------------------

#[test]
fn a_release_older_than_the_released_tags_is_blocked_at_order_with_no_side_effect() {
    let Some((_dir, r)) = without_verify() else {
        return;
    };
    commit_release(&r.sandbox, "2025.01.9", LIVE_BACKEND, LIVE_FRONTEND);
    let before = all_refs(&r.sandbox);
    let step = blocked_step(apply_version(&r, "2025.01.9", PlanOptions::default()));
    assert_eq!(step.title(), "preflight order");
    assert_eq!(step.code(), "older-than-released");
    assert_untouched(&r, &before);
}

// --- The release commit -----------------------------------------------------------------------

/// A replica whose verifier shows 2026.08.3 live, with 2026.08.4 declared: `backend` and the
/// frontend 2026.08.3 runs.
fn next_release(backend: &str) -> Option<(TempDir, Replica)> {
    let (dir, r) = with_verify()?;
    r.production_runs(LIVE);
    commit_release(&r.sandbox, NEXT, backend, LIVE_FRONTEND);
    Some((dir, r))
}

#[test]
fn a_stack_only_release_pins_nothing_and_tags_the_branch_tip_not_the_merge() {
    let Some((_dir, r)) = next_release(LIVE_BACKEND) else {
        return;
    };
    let plan = plan_newest(&r);
    assert_eq!(step(&plan, "pin").code(), "pinned");
    assert_eq!(step(&plan, "release").code(), "tag-to-create");
    assert_eq!(plan.target, Some(r.tip.to_string()));
    assert_converged(&apply_version(&r, NEXT, PlanOptions::default()));
    assert_eq!(tag_commit(&r.sandbox.stack, NEXT), Some(r.tip));
    assert_eq!(master(&r.sandbox), r.tip, "nothing was pinned");
    assert_eq!(r.sandbox.deploy_count(), 1);
}

#[test]
fn a_new_backend_is_pinned_on_top_of_the_branch_tip() {
    let Some((_dir, r)) = next_release(NEW_BACKEND) else {
        return;
    };
    assert_converged(&apply_version(&r, NEXT, PlanOptions::default()));
    let pin = master(&r.sandbox);
    let stack = git2::Repository::open(&r.sandbox.stack).unwrap();
    assert_eq!(
        stack
            .find_commit(pin)
            .unwrap()
            .parent_ids()
            .collect::<Vec<_>>(),
        [r.tip]
    );
    assert_eq!(changed_paths(&r.sandbox, pin), [WORKFLOW]);
    assert_eq!(tag_commit(&r.sandbox.stack, NEXT), Some(pin));
    assert_eq!(r.sandbox.deploy_count(), 1);
}

// --- Deploy windows ---------------------------------------------------------------------------

/// A replica with Fragalysis' window in `timezone`, 2026.08.3 live, and the pins of 2026.08.4
/// (a new backend) committed on master by a person, as Fragalysis works; returns their commit.
fn pinned_by_a_person(timezone: Option<&str>) -> Option<(TempDir, Replica, Oid)> {
    let (dir, r) = replica(&Options {
        windows: vec![WINDOW.into()],
        timezone: timezone.map(String::from),
        ..Options::default()
    })?;
    r.production_runs(LIVE);
    let workflow = testkit::sandbox::file_at(&r.sandbox, r.tip, WORKFLOW).unwrap();
    let pins = [
        ("BE_IMAGE_TAG", NEW_BACKEND),
        ("FE_IMAGE_TAG", LIVE_FRONTEND),
    ];
    let pinned = stackrel::pin::set_pins(&workflow, &pins).unwrap();
    let subject = format!("build: Use of b/e {NEW_BACKEND} f/e {LIVE_FRONTEND}");
    let commit = push_to_stack(&r.sandbox.stack, &[(WORKFLOW, &pinned)], &subject);
    commit_release(&r.sandbox, NEXT, NEW_BACKEND, LIVE_FRONTEND);
    Some((dir, r, commit))
}

/// A Tuesday at 19:08 UTC: outside the window.
const TUESDAY_EVENING: &str = "2026-08-18T19:08:00Z";

#[test]
fn a_closed_window_holds_a_release_whose_pins_a_person_committed() {
    let Some((_dir, r, pinned)) = pinned_by_a_person(None) else {
        return;
    };
    let before = all_refs(&r.sandbox);
    let window = window_at(&r, TUESDAY_EVENING);
    assert!(window.as_ref().is_some_and(|w| !w.open));
    let outcome = apply_version(
        &r,
        NEXT,
        PlanOptions {
            window,
            ..PlanOptions::default()
        },
    );
    let ApplyOutcome::Held { plan, .. } = outcome else {
        panic!("expected the release held, got {outcome:#?}");
    };
    assert_eq!(step(&plan, "release").code(), "waiting-for-window");
    assert_eq!(step(&plan, "deploy").code(), "waiting-for-window");
    assert_untouched(&r, &before);
    assert_eq!(master(&r.sandbox), pinned);
}

#[test]
fn ignore_window_releases_through_a_closed_window_and_the_record_says_so() {
    let Some((_dir, r, pinned)) = pinned_by_a_person(None) else {
        return;
    };
    let window = window_at(&r, TUESDAY_EVENING);
    let options = PlanOptions {
        window,
        ignore_window: true,
        ..PlanOptions::default()
    };
    assert_converged(&apply_version(&r, NEXT, options));
    assert_eq!(tag_commit(&r.sandbox.stack, NEXT), Some(pinned));
    assert_eq!(r.sandbox.deploy_count(), 1);
    let records = deployment_records(&r.sandbox);
    assert!(
        records
            .iter()
            .any(|rec| rec.version == NEXT && rec.detail.contains("--ignore-window")),
        "{records:#?}"
    );
}

#[test]
fn a_window_open_in_the_configured_timezone_lets_the_release_through() {
    let Some((_dir, r, pinned)) = pinned_by_a_person(Some("Europe/London")) else {
        return;
    };
    // A Thursday at 08:30 UTC, 09:30 in London (BST): open there, not in UTC.
    let now = "2026-08-20T08:30:00Z";
    let (config, _) = load(&r.sandbox);
    let in_utc = stackrel::window::state(&config.daemon.windows, chrono_tz::UTC, at(now));
    assert!(in_utc.is_some_and(|w| !w.open), "closed in UTC");
    let window = window_at(&r, now);
    assert!(window.as_ref().is_some_and(|w| w.open), "open in London");
    assert_converged(&apply_version(
        &r,
        NEXT,
        PlanOptions {
            window,
            ..PlanOptions::default()
        },
    ));
    assert_eq!(tag_commit(&r.sandbox.stack, NEXT), Some(pinned));
    assert_eq!(r.sandbox.deploy_count(), 1);
}

// --- Honest states ----------------------------------------------------------------------------

#[test]
fn without_verify_a_release_is_deployed_not_verified() {
    let Some((_dir, r)) = without_verify() else {
        return;
    };
    commit_release(&r.sandbox, NEXT, LIVE_BACKEND, LIVE_FRONTEND);
    let applied = stackrel(&r.sandbox.desired, &["apply", "--yes"]);
    assert_exit(&applied, 0);
    let text = stdout(&applied);
    assert!(
        text.contains("2026.08.4 is deployed (not verified)"),
        "{text}"
    );
    let records = deployment_records(&r.sandbox);
    assert_eq!(
        records.last().map(|rec| (rec.version.as_str(), rec.state)),
        Some((NEXT, DeploymentState::Reported))
    );
    let status = stdout(&stackrel(&r.sandbox.desired, &["status"]));
    assert!(
        row(&status, NEXT).contains("deployed (not verified)"),
        "{status}"
    );
}

#[test]
fn status_and_history_show_every_release_tag_with_its_commit_and_deploy_state() {
    let Some((_dir, r)) = without_verify() else {
        return;
    };
    assert_exit(&stackrel(&r.sandbox.desired, &["adopt", LIVE, "--yes"]), 0);
    let waived = "backend = \"2026.08.2\"\nfrontend = \"2026.08.2\"\nwaive_ci = [\"backend\"]\n";
    r.sandbox
        .commit_desired(&[("releases/2026.08.4.toml", waived)], "Release 2026.08.4")
        .unwrap();
    let status = stdout(&stackrel(&r.sandbox.desired, &["status"]));
    let history = stdout(&stackrel(&r.sandbox.desired, &["history"]));
    let header = history.lines().next().unwrap_or_default();
    for column in ["RELEASE", "COMMIT", "TAG", "DEPLOY"] {
        assert!(header.split_whitespace().any(|c| c == column), "{header}");
    }
    let (_, releases) = load(&r.sandbox);
    for release in releases
        .iter()
        .filter(|rel| rel.version.to_string() != NEXT)
    {
        let version = release.version.to_string();
        let commit = tag_commit(&r.sandbox.stack, &version).unwrap().to_string();
        let tagged = format!("{version}@{}", short(&commit));
        assert!(row(&status, &version).contains(&tagged), "status: {tagged}");
        assert!(
            row(&history, &version).contains(&tagged),
            "history: {tagged}"
        );
    }
    assert!(row(&status, LIVE).contains("live (adopted)"), "{status}");
    assert!(row(&history, LIVE).contains("adopted"), "{history}");
    assert!(row(&history, "2026.08.2").contains("released"), "{history}");
    assert!(history.contains("waives CI: backend"), "{history}");
}
