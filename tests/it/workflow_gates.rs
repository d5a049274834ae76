//! What a component's or the stack's own workflow file says, turned into gates and warnings: a
//! tag the component's CI never builds blocks at once instead of being waited on for ever, and a
//! stack workflow that launches the deploy itself is flagged when stackrel would launch it too.

use git2::{Repository, Signature};
use stackrel::apply::{Backends, preview};
use stackrel::forge::local::LocalForge;
use stackrel::plan::{Plan, PlanOptions, Status};
use stackrel::validate::config_from_str;
use std::path::Path;
use testkit::sandbox::{commit_release, load, push_to_stack, sandbox};

/// The backend's `build production` as Fragalysis has it: production-grade tags only.
const BUILD_PRODUCTION: &str = "name: build production\non:\n  push:\n    tags:\n    - '[0-9]+.[0-9]+'\n    - '[0-9]+.[0-9]+.[0-9]+'\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n    - run: echo build\n";

/// Commits the workflow onto the backend's production branch and tags it, with no CI run.
fn tag_backend_without_ci(backend: &Path, tag: &str) {
    let repo = Repository::open(backend).unwrap();
    let parent = repo
        .find_reference("refs/heads/production")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert(
        ".github/workflows/build-production.yaml",
        repo.blob(BUILD_PRODUCTION.as_bytes()).unwrap(),
        git2::FileMode::Blob,
    );
    let tree = repo
        .find_tree(
            update
                .create_updated(&repo, &parent.tree().unwrap())
                .unwrap(),
        )
        .unwrap();
    let sig = Signature::now("Backend Dev", "dev@example.org").unwrap();
    let commit = repo
        .commit(
            Some("refs/heads/production"),
            &sig,
            &sig,
            tag,
            &tree,
            &[&parent],
        )
        .unwrap();
    repo.reference(&format!("refs/tags/{tag}"), commit, false, "hotfix")
        .unwrap();
}

fn plan_of(sandbox: &stackrel::demo::Sandbox) -> Plan {
    let (config, releases) = load(sandbox);
    let forge = LocalForge::new(&sandbox.desired);
    let backends = Backends {
        forge: &forge,
        deployer: None,
        verifier: None,
        registry: None,
    };
    let release = releases.last().unwrap().clone();
    preview(
        &config,
        &release,
        &releases,
        &backends,
        PlanOptions::default(),
    )
    .unwrap()
}

#[test]
fn a_hotfix_tag_the_component_workflow_never_builds_blocks_at_once_naming_its_patterns() {
    let (_dir, sandbox) = sandbox();
    tag_backend_without_ci(&sandbox.backend, "2026.08.1-1");
    commit_release(&sandbox, "2026.08.3", "2026.08.1-1", "2026.08.2");
    let plan = plan_of(&sandbox);
    let step = plan
        .steps
        .iter()
        .find(|s| s.title() == "preflight backend")
        .unwrap();
    assert_eq!(step.status, Status::Blocked, "{}", step.reason);
    assert_eq!(step.code(), "ci-never-runs");
    let reason = step.reason.to_string();
    assert!(reason.contains("[0-9]+.[0-9]+.[0-9]+"), "{reason}");
    assert!(reason.contains("waive_ci"), "{reason}");
}

#[test]
fn a_tag_the_workflow_builds_waits_for_its_run() {
    let (_dir, sandbox) = sandbox();
    tag_backend_without_ci(&sandbox.backend, "2026.08.7");
    commit_release(&sandbox, "2026.08.3", "2026.08.7", "2026.08.2");
    let plan = plan_of(&sandbox);
    let step = plan
        .steps
        .iter()
        .find(|s| s.title() == "preflight backend")
        .unwrap();
    assert_eq!(step.status, Status::Waiting, "{}", step.reason);
    assert_eq!(step.code(), "ci-missing");
}

#[test]
fn a_release_may_waive_a_gate_that_can_never_pass_and_says_so() {
    let (_dir, sandbox) = sandbox();
    tag_backend_without_ci(&sandbox.backend, "2026.08.1-1");
    let text = "backend = \"2026.08.1-1\"\nfrontend = \"2026.08.2\"\nwaive_ci = [\"backend\"]\n";
    sandbox
        .commit_desired(&[("releases/2026.08.3.toml", text)], "Release 2026.08.3")
        .unwrap();
    let plan = plan_of(&sandbox);
    let step = plan
        .steps
        .iter()
        .find(|s| s.title() == "preflight backend")
        .unwrap();
    assert_eq!(step.status, Status::Done, "{}", step.reason);
    assert_eq!(step.code(), "ci-waived");
    assert!(
        plan.warnings.iter().any(|w| w.contains("waive_ci")),
        "{:?}",
        plan.warnings
    );
}

/// The Fragalysis stack's own deploy job, as in build-main.yaml since 2024.
const DEPLOY_JOB: &str = "\n  deploy-production:\n    runs-on: ubuntu-latest\n    continue-on-error: true\n    steps:\n    - name: Deploy production\n      uses: InformaticsMatters/trigger-awx-action@v3\n      with:\n        template: Production Fragalysis Stack\n        template-var: stack_image_tag\n";

fn awx_config(launched_by: &str) -> String {
    format!(
        "[deploy]\nkind = \"awx\"\nurl = \"https://awx.example.org\"\ntemplate = \"Production Fragalysis Stack\"\nvariable = \"stack_image_tag\"\nlaunched_by = \"{launched_by}\"\n"
    )
}

fn with_awx(sandbox: &stackrel::demo::Sandbox, launched_by: &str) {
    let config = std::fs::read_to_string(sandbox.desired.join("stackrel.toml")).unwrap();
    let start = config.find("[deploy]").unwrap();
    let end = config.find("[verify]").unwrap();
    let config = format!(
        "{}{}\n{}",
        &config[..start],
        awx_config(launched_by),
        &config[end..]
    );
    config_from_str(&config).expect("the AWX config is valid");
    sandbox
        .commit_desired(&[("stackrel.toml", &config)], "Deploy through AWX")
        .unwrap();
    let workflow = format!("{}{DEPLOY_JOB}", stackrel::demo::DEMO_WORKFLOW);
    push_to_stack(
        &sandbox.stack,
        &[(".github/workflows/build-main.yaml", &workflow)],
        "ci: deploy production from the workflow",
    );
}

#[test]
fn a_stack_workflow_that_launches_the_template_itself_warns_of_two_deploys() {
    let (_dir, sandbox) = sandbox();
    with_awx(&sandbox, "stackrel");
    let plan = plan_of(&sandbox);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("deploy twice") && w.contains("deploy-production")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn launched_by_ci_follows_that_job_and_warns_of_nothing() {
    let (_dir, sandbox) = sandbox();
    with_awx(&sandbox, "ci");
    let plan = plan_of(&sandbox);
    assert!(
        !plan.warnings.iter().any(|w| w.contains("deploy twice")),
        "{:?}",
        plan.warnings
    );
}
