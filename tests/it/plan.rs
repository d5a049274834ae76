//! Specifies the planner as a pure function: from a config, the desired release and a hand-made
//! `Observation` of the world, `plan` decides every step — done, to do, waiting or blocked — with
//! a reason a person can act on. No I/O happens here: every observation is a value built below,
//! so each test names exactly the fact it turns on.

use stackrel::calver::CalVer;
use stackrel::config::Config;
use stackrel::forge::{
    CiStatus, CommitRange, CommitSummary, DeploymentRecord, DeploymentState, TagRef,
};
use stackrel::observation::{
    ComponentObservation, DeployObservation, Evidence, Live, Observation, Released,
    StackObservation, TagObservation,
};
use stackrel::plan::{Hold, Next, Plan, PlanOptions, Status, Step, plan};
use stackrel::release::Release;
use std::collections::BTreeMap;

const CONFIG: &str = r#"
[stack]
repo = "./stack.git"
branch = "master"
workflow = ".github/workflows/build-main.yaml"
commit_message = "build: Use of b/e {backend} f/e {frontend}"
ci = "build main"

[components.backend]
repo = "./backend.git"
branch = "production"
pin = "BE_IMAGE_TAG"
ci = "build production"

[components.frontend]
repo = "./frontend.git"
branch = "production"
pin = "FE_IMAGE_TAG"

[deploy]
kind = "command"
command = ["./deploy.sh", "{version}"]

[verify]
command = ["./check-live.sh", "{version}"]
"#;

/// The branch tip, the commit that pinned the desired versions, and an unrelated commit.
const HEAD: &str = "1111111111111111111111111111111111111111";
const PIN_COMMIT: &str = "2222222222222222222222222222222222222222";
const ELSEWHERE: &str = "3333333333333333333333333333333333333333";
const BACKEND_COMMIT: &str = "4444444444444444444444444444444444444444";
const FRONTEND_COMMIT: &str = "5555555555555555555555555555555555555555";

fn config() -> Config {
    stackrel::validate::config_from_str(CONFIG).expect("the test config is valid")
}

fn v(s: &str) -> CalVer {
    s.parse().expect("a stack version")
}

/// `version` is live, as a stackrel record says.
fn live(version: &str) -> Option<Live> {
    Some(Live {
        version: v(version),
        evidence: Evidence::Record(DeploymentState::Verified),
    })
}

fn pins(backend: &str, frontend: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("backend".to_string(), backend.to_string()),
        ("frontend".to_string(), frontend.to_string()),
    ])
}

fn release(version: &str, backend: &str, frontend: &str) -> Release {
    Release {
        version: v(version),
        path: format!("releases/{version}.toml"),
        components: pins(backend, frontend),
        ticket: None,
        notes: None,
        waive_ci: Vec::new(),
    }
}

/// The release every test wants to converge on.
fn desired() -> Release {
    release("2026.08.3", "2026.08.1", "2026.08.2")
}

fn record(version: &str, commit: &str, state: DeploymentState) -> DeploymentRecord {
    DeploymentRecord {
        version: version.into(),
        commit: commit.into(),
        state,
        at: "2026-08-20T10:00:00.000000Z".into(),
        detail: String::new(),
        images: Default::default(),
    }
}

/// Nothing of 2026.08.3 exists yet: its component tags are on production with green CI (the
/// backend's CI is gated, the frontend's is not), the stack branch still pins the old versions,
/// and 2026.08.2 is live.
fn fresh() -> Observation {
    let components = BTreeMap::from([
        (
            "backend".to_string(),
            ComponentObservation {
                tag: "2026.08.1".into(),
                branch: "production".into(),
                commit: Some(BACKEND_COMMIT.into()),
                reachable: true,
                ci: Some(("build production".into(), CiStatus::Success)),
                ci_never_runs: None,
            },
        ),
        (
            "frontend".to_string(),
            ComponentObservation {
                tag: "2026.08.2".into(),
                branch: "production".into(),
                commit: Some(FRONTEND_COMMIT.into()),
                reachable: true,
                ci: None,
                ci_never_runs: None,
            },
        ),
    ]);
    Observation {
        components,
        stack: StackObservation {
            branch_head: HEAD.into(),
            pins: Ok(pins("2026.07.1", "2026.08.1")),
            released: Released::default(),
            tag: None,
            ci: None,
        },
        deploy: DeployObservation {
            latest_for_version: None,
            live: live("2026.08.2"),
            verified: None,
            verify_detail: String::new(),
            deployer: None,
            in_progress: None,
        },
        images: BTreeMap::new(),
        warnings: Vec::new(),
    }
}

/// The stack pins the desired versions at `PIN_COMMIT` (the branch tip), but no tag exists yet.
fn pinned() -> Observation {
    let mut o = fresh();
    o.stack.branch_head = PIN_COMMIT.into();
    o.stack.pins = Ok(pins("2026.08.1", "2026.08.2"));
    o
}

/// The release is cut at the pin commit and its stack build succeeded; nothing deployed yet.
fn released() -> Observation {
    let mut o = pinned();
    o.stack.tag = Some(TagObservation {
        commit: PIN_COMMIT.into(),
        pins: Ok(pins("2026.08.1", "2026.08.2")),
        on_branch: true,
        release: true,
        by_stackrel: true,
    });
    o.stack.ci = Some(("build main".into(), CiStatus::Success));
    o
}

/// Everything done: deployed, verified live, recorded as verified.
fn converged() -> Observation {
    let mut o = released();
    o.deploy.latest_for_version = Some(record("2026.08.3", PIN_COMMIT, DeploymentState::Verified));
    o.deploy.live = live("2026.08.3");
    o.deploy.verified = Some(Ok(true));
    o.deploy.verify_detail = "live".into();
    o
}

fn plan_for(observed: &Observation) -> Plan {
    plan(
        &config(),
        &desired(),
        &[desired()],
        observed,
        PlanOptions::default(),
    )
}

fn retrying(observed: &Observation) -> Plan {
    plan(
        &config(),
        &desired(),
        &[desired()],
        observed,
        PlanOptions {
            retry_deploy: true,
            ..PlanOptions::default()
        },
    )
}

/// The step with this title (`pin`, `preflight backend`, …).
pub(crate) fn step<'a>(plan: &'a Plan, title: &str) -> &'a Step {
    plan.steps
        .iter()
        .find(|s| s.title() == title)
        .unwrap_or_else(|| panic!("no step `{title}` in {plan:#?}"))
}

/// The step's status and reason code, and words its reason shows a person.
#[track_caller]
fn assert_step(plan: &Plan, title: &str, status: Status, code: &str, reason_contains: &[&str]) {
    let s = step(plan, title);
    assert_eq!(s.status, status, "step `{title}`: {s:?}");
    assert_eq!(s.code(), code, "step `{title}`: {s:?}");
    let reason = s.reason.to_string();
    for needle in reason_contains {
        assert!(
            reason.contains(needle),
            "step `{title}` reason `{reason}` should mention `{needle}`"
        );
    }
}

fn next_title(plan: &Plan) -> (String, &'static str) {
    match plan.next() {
        Next::InSync => (String::new(), "in sync"),
        Next::Act(_, s) => (s.title(), "act"),
        Next::Wait(s) => (s.title(), "wait"),
        Next::Blocked(s) => (s.title(), "blocked"),
    }
}

#[test]
fn steps_come_in_the_documented_order() {
    let titles: Vec<String> = plan_for(&fresh()).steps.iter().map(Step::title).collect();
    assert_eq!(
        titles,
        [
            "preflight backend",
            "preflight frontend",
            "preflight order",
            "pin",
            "release",
            "build",
            "deploy",
            "verify",
            "report"
        ]
    );
}

#[test]
fn fresh_stack_has_pin_release_deploy_verify_and_report_to_do() {
    let plan = plan_for(&fresh());
    assert_step(
        &plan,
        "preflight backend",
        Status::Done,
        "ci-succeeded",
        &["2026.08.1", "production", "build production"],
    );
    assert_step(
        &plan,
        "preflight frontend",
        Status::Done,
        "tag-on-branch",
        &["2026.08.2"],
    );
    assert_step(
        &plan,
        "preflight order",
        Status::Done,
        "newer-than-live",
        &["newer than the live 2026.08.2"],
    );
    assert_step(
        &plan,
        "pin",
        Status::ToDo,
        "pin-to-commit",
        &[
            "BE_IMAGE_TAG 2026.07.1 → 2026.08.1",
            "FE_IMAGE_TAG 2026.08.1 → 2026.08.2",
            "master",
        ],
    );
    assert_step(
        &plan,
        "release",
        Status::ToDo,
        "tag-to-create",
        &["tag 2026.08.3"],
    );
    assert_step(
        &plan,
        "deploy",
        Status::ToDo,
        "run-deploy-command",
        &["2026.08.3"],
    );
    assert_step(&plan, "verify", Status::ToDo, "to-verify", &["2026.08.3"]);
    assert_step(&plan, "report", Status::ToDo, "to-record", &["2026.08.3"]);
    assert!(!plan.in_sync());
    assert!(plan.blocked().is_none());
    assert_eq!(next_title(&plan), ("pin".to_string(), "act"));
}

#[test]
fn pin_names_only_the_components_that_change() {
    let mut o = fresh();
    o.stack.pins = Ok(pins("2026.08.1", "2026.08.1"));
    let plan = plan_for(&o);
    let pin = step(&plan, "pin");
    assert_eq!(pin.status, Status::ToDo);
    assert!(
        pin.reason
            .to_string()
            .contains("FE_IMAGE_TAG 2026.08.1 → 2026.08.2"),
        "{}",
        pin.reason
    );
    assert!(
        !pin.reason.to_string().contains("BE_IMAGE_TAG"),
        "{}",
        pin.reason
    );
}

#[test]
fn converged_stack_is_in_sync() {
    let plan = plan_for(&converged());
    assert!(plan.in_sync(), "{plan:#?}");
    assert_eq!(plan.next(), Next::InSync);
    assert_eq!(plan.pending(), 0);
    assert!(plan.blocked().is_none());
    assert_step(
        &plan,
        "preflight order",
        Status::Done,
        "is-live",
        &["2026.08.3 is live"],
    );
}

#[test]
fn nothing_deployed_yet_is_no_obstacle() {
    let mut o = fresh();
    o.deploy.live = None;
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "preflight order",
        Status::Done,
        "nothing-deployed",
        &["nothing deployed yet"],
    );
    assert_eq!(next_title(&plan), ("pin".to_string(), "act"));
}

#[test]
fn missing_component_tag_blocks_the_release() {
    let mut o = fresh();
    let backend = o.components.get_mut("backend").unwrap();
    backend.commit = None;
    backend.reachable = false;
    backend.ci = None;
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "preflight backend",
        Status::Blocked,
        "tag-missing",
        &["tag 2026.08.1 does not exist in the backend repository"],
    );
    assert_eq!(
        next_title(&plan),
        ("preflight backend".to_string(), "blocked")
    );
}

#[test]
fn component_tag_off_its_branch_blocks_naming_the_branch() {
    let mut o = fresh();
    o.components.get_mut("backend").unwrap().reachable = false;
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "preflight backend",
        Status::Blocked,
        "tag-not-on-branch",
        &["2026.08.1", "not on branch production", "444444"],
    );
    assert_eq!(
        next_title(&plan),
        ("preflight backend".to_string(), "blocked")
    );
}

#[test]
fn component_ci_failure_blocks_the_release() {
    let mut o = fresh();
    o.components.get_mut("backend").unwrap().ci = Some((
        "build production".into(),
        CiStatus::Failure("tests failed".into()),
    ));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "preflight backend",
        Status::Blocked,
        "ci-failed",
        &["\"build production\" failed for 2026.08.1", "tests failed"],
    );
    assert_eq!(
        next_title(&plan),
        ("preflight backend".to_string(), "blocked")
    );
}

#[test]
fn component_ci_still_running_waits() {
    let mut o = fresh();
    o.components.get_mut("backend").unwrap().ci =
        Some(("build production".into(), CiStatus::Pending));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "preflight backend",
        Status::Waiting,
        "ci-running",
        &["still running for 2026.08.1"],
    );
    assert_eq!(next_title(&plan), ("preflight backend".to_string(), "wait"));
    assert!(plan.blocked().is_none());
}

#[test]
fn component_ci_without_a_run_waits() {
    let mut o = fresh();
    o.components.get_mut("backend").unwrap().ci =
        Some(("build production".into(), CiStatus::Missing));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "preflight backend",
        Status::Waiting,
        "ci-missing",
        &["no \"build production\" run for 2026.08.1"],
    );
    assert_eq!(next_title(&plan), ("preflight backend".to_string(), "wait"));
}

#[test]
fn desired_older_than_live_is_blocked_with_a_roll_back_hint() {
    let mut o = fresh();
    o.deploy.live = live("2026.08.4");
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "preflight order",
        Status::Blocked,
        "live-is-newer",
        &[
            "2026.08.4 is live",
            "newer than the declared 2026.08.3",
            "roll back",
        ],
    );
    assert_eq!(
        next_title(&plan),
        ("preflight order".to_string(), "blocked")
    );
}

#[test]
fn stack_tag_at_a_commit_with_other_pins_is_a_conflict_that_blocks() {
    let mut o = fresh();
    o.stack.tag = Some(TagObservation {
        commit: ELSEWHERE.into(),
        pins: Ok(pins("2026.07.1", "2026.08.1")),
        on_branch: true,
        release: true,
        by_stackrel: true,
    });
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "release",
        Status::Blocked,
        "tag-conflict",
        &[
            "tag 2026.08.3 already exists at 3333333",
            "backend=2026.07.1",
            "instead of backend=2026.08.1",
            "delete or rename",
        ],
    );
    assert_step(
        &plan,
        "pin",
        Status::Blocked,
        "tag-conflict",
        &["already exists"],
    );
    // Fail closed: the first step not done is blocked, so apply writes nothing.
    assert_eq!(next_title(&plan), ("pin".to_string(), "blocked"));
}

#[test]
fn stack_tag_off_the_stack_branch_is_a_conflict_that_blocks() {
    let mut o = fresh();
    o.stack.tag = Some(TagObservation {
        commit: ELSEWHERE.into(),
        pins: Ok(pins("2026.08.1", "2026.08.2")),
        on_branch: false,
        release: true,
        by_stackrel: true,
    });
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "release",
        Status::Blocked,
        "tag-conflict",
        &["already exists at 3333333", "not on master"],
    );
    assert_eq!(next_title(&plan).1, "blocked");
}

#[test]
fn stack_tag_whose_workflow_cannot_be_read_is_a_conflict_that_blocks() {
    let mut o = fresh();
    o.stack.tag = Some(TagObservation {
        commit: ELSEWHERE.into(),
        pins: Err("BE_IMAGE_TAG appears twice".into()),
        on_branch: true,
        release: true,
        by_stackrel: true,
    });
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "release",
        Status::Blocked,
        "tag-conflict",
        &["cannot be read", "BE_IMAGE_TAG appears twice"],
    );
    assert_eq!(next_title(&plan).1, "blocked");
}

#[test]
fn stack_tag_at_the_right_commit_means_pin_and_release_are_done_even_after_the_branch_moved_on() {
    let mut o = released();
    // Someone has since pinned other versions on the branch: the tag still decides.
    o.stack.branch_head = HEAD.into();
    o.stack.pins = Ok(pins("2026.09.1", "2026.09.1"));
    let plan = plan_for(&o);
    assert_step(&plan, "pin", Status::Done, "pinned", &["2222222"]);
    assert_step(
        &plan,
        "release",
        Status::Done,
        "tagged",
        &["tag 2026.08.3 is at 2222222"],
    );
    assert_eq!(next_title(&plan), ("deploy".to_string(), "act"));
}

#[test]
fn pins_already_matching_make_pin_done_and_release_target_the_pin_commit() {
    let plan = plan_for(&pinned());
    assert_step(
        &plan,
        "pin",
        Status::Done,
        "pinned",
        &["2222222", "backend=2026.08.1 frontend=2026.08.2"],
    );
    assert_step(
        &plan,
        "release",
        Status::ToDo,
        "tag-to-create",
        &["tag 2026.08.3 at 2222222"],
    );
    assert_eq!(next_title(&plan), ("release".to_string(), "act"));
}

#[test]
fn pins_a_person_merged_are_released_at_the_branch_tip_not_the_pin_commit() {
    // The merge of the pin commit, and a later commit, both keep the pins: the tip is released.
    let mut o = pinned();
    o.stack.branch_head = HEAD.into();
    let plan = plan_for(&o);
    assert_step(&plan, "pin", Status::Done, "pinned", &["1111111"]);
    assert_step(
        &plan,
        "release",
        Status::ToDo,
        "tag-to-create",
        &["tag 2026.08.3 at 1111111"],
    );
    assert_eq!(plan.target.as_deref(), Some(HEAD));
}

#[test]
fn the_commit_this_run_pinned_is_released_even_when_the_branch_moved_on() {
    let mut o = pinned();
    o.stack.branch_head = HEAD.into();
    o.stack.pins = Ok(pins("2026.09.1", "2026.09.1"));
    let plan = plan(
        &config(),
        &desired(),
        &[desired()],
        &o,
        PlanOptions {
            pinned: Some(PIN_COMMIT.into()),
            ..PlanOptions::default()
        },
    );
    assert_step(&plan, "pin", Status::Done, "pinned", &["2222222"]);
    assert_eq!(plan.target.as_deref(), Some(PIN_COMMIT));
}

#[test]
fn the_release_step_names_the_commits_it_adds_since_the_previous_release() {
    let mut o = pinned();
    o.stack.released.previous = Some(TagRef {
        name: "2026.08.2".into(),
        commit: ELSEWHERE.into(),
    });
    o.stack.released.adds = Some(CommitRange {
        total: 2,
        commits: vec![
            CommitSummary {
                id: ELSEWHERE.into(),
                subject: "Dockerfile: newer base".into(),
            },
            CommitSummary {
                id: PIN_COMMIT.into(),
                subject: "build: Use of b/e 2026.08.1 f/e 2026.08.2".into(),
            },
        ],
    });
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "release",
        Status::ToDo,
        "tag-to-create",
        &["adding 2 commits since 2026.08.2: Dockerfile: newer base; build: Use of"],
    );
}

#[test]
fn unreadable_pins_on_the_branch_block_the_pin() {
    let mut o = fresh();
    o.stack.pins = Err(
        "BE_IMAGE_TAG appears twice under the top-level `env:` (lines 3 and 5); keep one".into(),
    );
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "pin",
        Status::Blocked,
        "pins-unreadable",
        &["cannot read the pins", "appears twice"],
    );
    assert_eq!(next_title(&plan), ("pin".to_string(), "blocked"));
}

#[test]
fn stack_build_still_running_on_the_tag_waits() {
    let mut o = released();
    o.stack.ci = Some(("build main".into(), CiStatus::Pending));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "build",
        Status::Waiting,
        "stack-ci-running",
        &["\"build main\" is running on 2026.08.3"],
    );
    assert_eq!(next_title(&plan), ("build".to_string(), "wait"));
}

#[test]
fn stack_build_not_started_on_the_tag_waits() {
    let mut o = released();
    o.stack.ci = Some(("build main".into(), CiStatus::Missing));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "build",
        Status::Waiting,
        "stack-ci-missing",
        &["no \"build main\" run on 2026.08.3"],
    );
    assert_eq!(next_title(&plan), ("build".to_string(), "wait"));
}

#[test]
fn stack_build_failure_blocks_the_deploy() {
    let mut o = released();
    o.stack.ci = Some((
        "build main".into(),
        CiStatus::Failure("image push denied".into()),
    ));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "build",
        Status::Blocked,
        "stack-ci-failed",
        &["failed on 2026.08.3", "image push denied"],
    );
    assert_eq!(next_title(&plan), ("build".to_string(), "blocked"));
}

#[test]
fn stack_without_a_ci_gate_skips_the_build_wait() {
    let mut config = config();
    config.stack.ci = None;
    let mut o = released();
    o.stack.ci = None;
    let plan = plan(
        &config,
        &desired(),
        &[desired()],
        &o,
        PlanOptions::default(),
    );
    assert_step(
        &plan,
        "build",
        Status::Done,
        "no-stack-ci",
        &["no stack CI gate"],
    );
}

#[test]
fn failed_deploy_blocks_until_a_retry_is_asked_for() {
    let mut o = released();
    let mut failed = record("2026.08.3", PIN_COMMIT, DeploymentState::Failed);
    failed.detail = "starting\n`./deploy.sh` exited with status 1: disk full".into();
    o.deploy.latest_for_version = Some(failed);
    o.deploy.verified = Some(Ok(false));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "deploy",
        Status::Blocked,
        "deploy-failed",
        &["failed", "disk full", "--retry-deploy"],
    );
    assert_eq!(next_title(&plan), ("deploy".to_string(), "blocked"));

    let plan = retrying(&o);
    assert_step(
        &plan,
        "deploy",
        Status::ToDo,
        "retry-failed",
        &["retry the failed deploy of 2026.08.3"],
    );
    assert_eq!(next_title(&plan), ("deploy".to_string(), "act"));
}

#[test]
fn deploy_started_without_an_outcome_blocks_when_not_live() {
    let mut o = released();
    o.deploy.latest_for_version = Some(record("2026.08.3", PIN_COMMIT, DeploymentState::Started));
    o.deploy.verified = Some(Ok(false));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "deploy",
        Status::Blocked,
        "deploy-interrupted",
        &["no recorded outcome", "not verified live", "--retry-deploy"],
    );
    assert_eq!(next_title(&plan), ("deploy".to_string(), "blocked"));
}

#[test]
fn deploy_started_without_an_outcome_is_done_when_verification_sees_it_live() {
    let mut o = released();
    o.deploy.latest_for_version = Some(record("2026.08.3", PIN_COMMIT, DeploymentState::Started));
    o.deploy.verified = Some(Ok(true));
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "deploy",
        Status::Done,
        "outcome-unrecorded-but-live",
        &["verification sees it live"],
    );
    assert_step(&plan, "verify", Status::Done, "verified", &["2026.08.3"]);
    assert_eq!(next_title(&plan), ("report".to_string(), "act"));
}

#[test]
fn a_deploy_another_run_holds_the_lock_for_waits_and_names_it_even_when_a_retry_is_asked() {
    let mut o = released();
    o.deploy.latest_for_version = Some(record("2026.08.3", PIN_COMMIT, DeploymentState::Started));
    o.deploy.in_progress = Some(stackrel::lock::Holder {
        pid: 4242,
        host: "ops1".into(),
        user: "alice".into(),
        since: "2026-08-20T10:00:00Z".into(),
    });
    for plan in [plan_for(&o), retrying(&o)] {
        assert_step(
            &plan,
            "deploy",
            Status::Waiting,
            "deploy-in-progress",
            &[
                "a deploy of 2026.08.3 is in progress",
                "alice (pid 4242 on ops1), since 2026-08-20T10:00:00Z",
            ],
        );
        assert_eq!(next_title(&plan), ("deploy".to_string(), "wait"));
    }
}

#[test]
fn deploy_started_without_an_outcome_is_retried_when_asked() {
    let mut o = released();
    o.deploy.latest_for_version = Some(record("2026.08.3", PIN_COMMIT, DeploymentState::Started));
    o.deploy.verified = Some(Err("check-live.sh: connection refused".into()));
    let plan = retrying(&o);
    assert_step(
        &plan,
        "deploy",
        Status::ToDo,
        "retry-interrupted",
        &["retry the interrupted deploy"],
    );
    assert_eq!(next_title(&plan), ("deploy".to_string(), "act"));
}

#[test]
fn succeeded_deploy_waits_for_production_to_report_it() {
    let mut o = released();
    o.deploy.latest_for_version = Some(record("2026.08.3", PIN_COMMIT, DeploymentState::Succeeded));
    o.deploy.live = live("2026.08.3");
    o.deploy.verified = Some(Ok(false));
    o.deploy.verify_detail = "production runs: stack=2026.08.2".into();
    let plan = plan_for(&o);
    assert_step(
        &plan,
        "deploy",
        Status::Done,
        "deployed",
        &["2026.08.3 deployed"],
    );
    assert_step(
        &plan,
        "verify",
        Status::Waiting,
        "not-live-yet",
        &[
            "does not report 2026.08.3 yet",
            "production runs: stack=2026.08.2",
        ],
    );
    assert_step(
        &plan,
        "report",
        Status::ToDo,
        "to-record",
        &["record 2026.08.3 as live"],
    );
    assert_eq!(next_title(&plan), ("verify".to_string(), "wait"));
}

#[test]
fn report_names_the_release_ticket() {
    let mut r = desired();
    r.ticket = Some("m2ms/fragalysis-frontend#1523".parse().unwrap());
    let plan = plan(
        &config(),
        &r,
        std::slice::from_ref(&r),
        &fresh(),
        PlanOptions::default(),
    );
    assert_step(
        &plan,
        "report",
        Status::ToDo,
        "to-record",
        &["m2ms/fragalysis-frontend#1523"],
    );
}

#[test]
fn suspended_turns_every_to_do_step_into_waiting() {
    let mut config = config();
    config.daemon.suspended = true;
    let plan = plan(
        &config,
        &desired(),
        &[desired()],
        &fresh(),
        PlanOptions::default(),
    );
    assert!(
        plan.steps.iter().all(|s| s.status != Status::ToDo),
        "{plan:#?}"
    );
    assert_step(
        &plan,
        "pin",
        Status::Waiting,
        "suspended",
        &["suspended", "BE_IMAGE_TAG 2026.07.1 → 2026.08.1"],
    );
    assert_step(
        &plan,
        "preflight backend",
        Status::Done,
        "ci-succeeded",
        &[],
    );
    assert_eq!(next_title(&plan), ("pin".to_string(), "wait"));
}

#[test]
fn suspended_leaves_a_blocked_step_blocked() {
    let mut config = config();
    config.daemon.suspended = true;
    let mut o = fresh();
    o.components.get_mut("backend").unwrap().reachable = false;
    let plan = plan(
        &config,
        &desired(),
        &[desired()],
        &o,
        PlanOptions::default(),
    );
    assert_eq!(
        next_title(&plan),
        ("preflight backend".to_string(), "blocked")
    );
}

#[test]
fn superseded_releases_are_those_newer_than_live_and_older_than_desired() {
    let declared = [
        release("2026.08.1", "2026.07.1", "2026.08.1"),
        release("2026.08.2", "2026.07.1", "2026.08.2"),
        release("2026.08.3", "2026.08.1", "2026.08.1"),
        release("2026.08.4", "2026.08.1", "2026.08.2"),
        release("2026.08.10", "2026.08.1", "2026.08.2"),
    ];
    let target = &declared[4];
    let mut o = fresh();
    o.deploy.live = live("2026.08.2");
    let plan = plan(&config(), target, &declared, &o, PlanOptions::default());
    assert_eq!(plan.version, v("2026.08.10"));
    assert_eq!(plan.superseded, vec![v("2026.08.3"), v("2026.08.4")]);
}

#[test]
fn with_nothing_live_every_older_release_is_superseded() {
    let declared = [release("2026.08.1", "2026.07.1", "2026.08.1"), desired()];
    let mut o = fresh();
    o.deploy.live = None;
    let plan = plan(&config(), &desired(), &declared, &o, PlanOptions::default());
    assert_eq!(plan.superseded, vec![v("2026.08.1")]);
}

#[test]
fn plan_serializes_to_json_with_readable_statuses() {
    let plan = plan_for(&pinned());
    let json = serde_json::to_value(&plan).expect("a plan serializes");
    assert_eq!(json["version"], "2026.08.3");
    let steps = json["steps"].as_array().expect("steps is an array");
    assert_eq!(steps.len(), plan.steps.len());
    assert_eq!(steps[0]["kind"], "preflight");
    assert_eq!(steps[0]["component"], "backend");
    assert_eq!(steps[0]["status"], "done");
    let pin = steps
        .iter()
        .find(|s| s["kind"] == "pin")
        .expect("a pin step");
    assert_eq!(pin["status"], "done");
    let release = steps
        .iter()
        .find(|s| s["kind"] == "release")
        .expect("a release step");
    assert_eq!(release["status"], "to do");
    assert_eq!(release["code"], "tag-to-create");
    assert!(
        release["reason"]
            .as_str()
            .unwrap()
            .contains("tag 2026.08.3")
    );
    assert_eq!(json["superseded"], serde_json::json!([]));

    let mut waiting = released();
    waiting.stack.ci = Some(("build main".into(), CiStatus::Pending));
    let json = serde_json::to_value(plan_for(&waiting)).unwrap();
    let build = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "build")
        .unwrap()
        .clone();
    assert_eq!(build["status"], "waiting");

    let mut blocked = fresh();
    blocked.components.get_mut("backend").unwrap().reachable = false;
    let json = serde_json::to_value(plan_for(&blocked)).unwrap();
    assert_eq!(json["steps"][0]["status"], "blocked");
}

#[test]
fn planning_is_deterministic() {
    let o = fresh();
    assert_eq!(plan_for(&o), plan_for(&o));
}

#[test]
fn closed_window_holds_the_start_of_a_release() {
    let config = config();
    let window = stackrel::window::WindowState {
        open: false,
        next_opening: Some("2026-08-24T09:00:00Z".into()),
    };
    let plan = plan(
        &config,
        &desired(),
        &[desired()],
        &fresh(),
        PlanOptions {
            window: Some(window),
            ..PlanOptions::default()
        },
    );
    assert_step(
        &plan,
        "pin",
        Status::Waiting,
        "waiting-for-window",
        &["waiting for window", "2026-08-24T09:00:00Z"],
    );
    assert_eq!(
        plan.held,
        Some(Hold::Window {
            next_opening: Some("2026-08-24T09:00:00Z".into())
        })
    );
    assert!(
        plan.held
            .as_ref()
            .map(|h| h.to_string())
            .unwrap_or_default()
            .contains("deploy windows")
    );
    assert_eq!(next_title(&plan), ("pin".to_string(), "wait"));
}

#[test]
fn closed_window_holds_the_tag_and_deploy_of_a_release_a_person_pinned() {
    let window = stackrel::window::WindowState {
        open: false,
        next_opening: None,
    };
    let plan = plan(
        &config(),
        &desired(),
        &[desired()],
        &pinned(),
        PlanOptions {
            window: Some(window),
            ..PlanOptions::default()
        },
    );
    assert_step(&plan, "release", Status::Waiting, "waiting-for-window", &[]);
    assert_step(&plan, "deploy", Status::Waiting, "waiting-for-window", &[]);
    assert!(plan.held.is_some());
    assert_eq!(next_title(&plan), ("release".to_string(), "wait"));
}

#[test]
fn ignore_window_lets_a_release_through_a_closed_window_and_says_so() {
    let window = stackrel::window::WindowState {
        open: false,
        next_opening: None,
    };
    let plan = plan(
        &config(),
        &desired(),
        &[desired()],
        &pinned(),
        PlanOptions {
            window: Some(window),
            ignore_window: true,
            ..PlanOptions::default()
        },
    );
    assert_eq!(plan.held, None);
    assert_eq!(next_title(&plan), ("release".to_string(), "act"));
    assert!(
        plan.warnings.iter().any(|w| w.contains("--ignore-window")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn closed_window_holds_even_a_release_under_way() {
    let config = config();
    let window = stackrel::window::WindowState {
        open: false,
        next_opening: None,
    };
    let plan = plan(
        &config,
        &desired(),
        &[desired()],
        &released(),
        PlanOptions {
            window: Some(window),
            ..PlanOptions::default()
        },
    );
    assert!(plan.held.is_some());
    assert_eq!(next_title(&plan), ("deploy".to_string(), "wait"));
}
