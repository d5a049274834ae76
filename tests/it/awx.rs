//! The AWX deployer against the AWX emulator: one behaviour per test, each checked both by what
//! the deployer returns and by what the emulator saw (its jobs and its request log), because
//! the point of most of these behaviours is a request that must *not* be sent.

use stackrel::config::{AwxApi, AwxDeploy, LaunchedBy};
use stackrel::deploy::awx::AwxDeployer;
use stackrel::deploy::http_verify::HttpVerifier;
use stackrel::deploy::{Deployer, DeployerView, ReleaseContext, Verifier};
use std::collections::BTreeMap;
use std::time::Duration;
use testkit::emulator::awx::{AwxEmulator, Fault};

const TOKEN: &str = "awx-test-token-9f8e7d";
const TEMPLATE: &str = "Production Fragalysis Stack";
const ORG: &str = "xchem";
const VARIABLE: &str = "stack_image_tag";

fn config(emulator: &AwxEmulator, organization: Option<&str>) -> AwxDeploy {
    AwxDeploy {
        url: emulator.url(),
        api: AwxApi::Root(emulator.prefix()),
        template: TEMPLATE.into(),
        organization: organization.map(str::to_string),
        variable: VARIABLE.into(),
        timeout: Duration::from_secs(30),
        launched_by: LaunchedBy::Stackrel,
    }
}

/// Test speed: poll and back off in milliseconds.
fn fast(deployer: AwxDeployer) -> AwxDeployer {
    deployer
        .with_poll_interval(Duration::from_millis(5))
        .with_retry_backoff(Duration::from_millis(5))
}

fn deployer(emulator: &AwxEmulator) -> AwxDeployer {
    fast(AwxDeployer::new(&config(emulator, Some(ORG)), TOKEN).unwrap())
}

fn release(version: &str) -> ReleaseContext {
    ReleaseContext {
        version: version.into(),
        components: BTreeMap::from([
            ("backend".into(), "2026.08.1".into()),
            ("frontend".into(), "2026.08.2".into()),
        ]),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
    }
}

/// An emulator with the production template, prompting for variables as it must.
fn emulator() -> (AwxEmulator, u64) {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    let template = emulator.add_template(TEMPLATE, ORG, true, &[]);
    (emulator, template)
}

fn jobs_for(emulator: &AwxEmulator, version: &str) -> usize {
    emulator
        .jobs()
        .iter()
        .filter(|j| j.variable(VARIABLE).as_deref() == Some(version))
        .count()
}

#[test]
fn finds_the_template_by_name_and_organization() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    let other = emulator.add_template(TEMPLATE, "other-org", true, &[]);
    let ours = emulator.add_template(TEMPLATE, ORG, true, &[]);
    emulator.add_template("Production Fragalysis Stack (old)", ORG, true, &[]);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    let jobs = emulator.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].template, ours);
    assert_ne!(jobs[0].template, other);
    let lookup = &emulator.requests()[0];
    assert!(lookup.path.ends_with("/job_templates/"), "{lookup:?}");
    assert!(
        lookup.query.contains("organization__name=xchem"),
        "{lookup:?}"
    );
}

#[test]
fn a_name_shared_by_organizations_asks_for_the_organization() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    emulator.add_template(TEMPLATE, "other-org", true, &[]);
    emulator.add_template(TEMPLATE, ORG, true, &[]);
    let unscoped = fast(AwxDeployer::new(&config(&emulator, None), TOKEN).unwrap());

    let err = unscoped
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 job templates named"), "{err}");
    assert!(err.contains("organization"), "{err}");
    assert_eq!(emulator.launches(), 0);
}

#[test]
fn a_missing_template_is_named_in_the_error() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    emulator.add_template(TEMPLATE, "other-org", true, &[]);

    let err = deployer(&emulator)
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("no job template named \"{TEMPLATE}\"")),
        "{err}"
    );
    assert!(err.contains("organization \"xchem\""), "{err}");
}

#[test]
fn refuses_a_template_that_would_drop_the_variable() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    emulator.add_template(TEMPLATE, ORG, false, &["some_other_question"]);

    let err = deployer(&emulator)
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("would silently drop"), "{err}");
    assert!(err.contains(VARIABLE), "{err}");
    assert!(err.contains("Prompt on launch"), "{err}");
    assert_eq!(emulator.launches(), 0, "{:#?}", emulator.requests());
    assert!(emulator.jobs().is_empty());
}

#[test]
fn a_survey_question_for_the_variable_is_enough() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    emulator.add_template(TEMPLATE, ORG, false, &[VARIABLE]);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.count("GET", "/survey_spec/"), 1);
}

#[test]
fn launches_with_the_variable_and_follows_the_job_to_success() {
    let (emulator, template) = emulator();
    emulator.set_polls_to_finish(3);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    let jobs = emulator.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].template, template);
    assert_eq!(jobs[0].status, "successful");
    // AWX keeps extra_vars as a JSON string; the version is in it under the variable.
    let vars: serde_json::Value = serde_json::from_str(&jobs[0].extra_vars).unwrap();
    assert_eq!(vars, serde_json::json!({ VARIABLE: "2026.08.3" }));
    assert_eq!(emulator.launches(), 1);
    assert_eq!(emulator.count("GET", &format!("/jobs/{}/", jobs[0].id)), 3);
    assert!(
        outcome.detail.contains(&format!("#{}", jobs[0].id)),
        "{}",
        outcome.detail
    );
}

#[test]
fn a_failed_job_reports_the_tail_of_its_output() {
    let (emulator, _) = emulator();
    emulator.fail_version("2026.08.3");

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(!outcome.succeeded);
    assert!(
        outcome.detail.contains("ended failed"),
        "{}",
        outcome.detail
    );
    assert!(
        outcome.detail.contains("fatal: [production]: FAILED!"),
        "{}",
        outcome.detail
    );
    assert!(outcome.detail.contains("PLAY RECAP"), "{}", outcome.detail);
    // Only the tail: the start of the output is not in it.
    assert!(
        !outcome.detail.contains("Identity added"),
        "{}",
        outcome.detail
    );
    assert_eq!(emulator.count("GET", "/stdout/"), 1);
}

#[test]
fn ignored_fields_fail_the_launch_and_cancel_the_job() {
    let (emulator, template) = emulator();
    // Edited between the preflight and the launch: the launch then drops the variable.
    emulator.change_after_preflight(template, false);

    let err = deployer(&emulator)
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ignored extra_vars (stack_image_tag)"),
        "{err}"
    );
    assert!(err.contains("was canceled"), "{err}");
    let jobs = emulator.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, "canceled");
    assert_eq!(jobs[0].extra_vars, "{}");
    assert_eq!(
        emulator.count("POST", &format!("/jobs/{}/cancel/", jobs[0].id)),
        1
    );
}

#[test]
fn an_active_job_for_the_version_is_followed_not_relaunched() {
    let (emulator, template) = emulator();
    emulator.seed_job(template, "2026.08.2", "running");
    let running = emulator.seed_job(template, "2026.08.3", "running");

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert!(
        outcome.detail.contains(&format!("#{running}")),
        "{}",
        outcome.detail
    );
    assert_eq!(emulator.launches(), 0);
    assert_eq!(emulator.job(running).unwrap().status, "successful");
}

#[test]
fn a_successful_job_for_the_version_means_no_launch() {
    let (emulator, template) = emulator();
    emulator.seed_job(template, "2026.08.3", "successful");
    emulator.seed_job(template, "2026.08.4", "failed");

    let deployer = deployer(&emulator);
    let outcome = deployer.deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert!(
        outcome.detail.contains("already deployed"),
        "{}",
        outcome.detail
    );
    assert_eq!(emulator.launches(), 0);
    // Template lookup and one job listing: nothing else.
    assert_eq!(deployer.request_count(), 2);
    // The job listing is never filtered on extra_vars (AWX answers 403).
    assert!(
        emulator
            .requests()
            .iter()
            .all(|r| !r.query.contains("extra_vars"))
    );
}

#[test]
fn a_failed_job_for_the_version_is_retried_with_a_new_launch() {
    let (emulator, template) = emulator();
    emulator.seed_job(template, "2026.08.3", "failed");

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 1);
    assert_eq!(jobs_for(&emulator, "2026.08.3"), 2);
}

#[test]
fn a_lost_launch_response_does_not_launch_a_second_job() {
    let (emulator, _) = emulator();
    emulator.inject("POST", "/launch/", Fault::LoseResponse, 1);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 1);
    assert_eq!(jobs_for(&emulator, "2026.08.3"), 1);
    assert_eq!(emulator.jobs()[0].status, "successful");
}

#[test]
fn a_launch_refused_with_5xx_before_acting_is_sent_once_more() {
    let (emulator, _) = emulator();
    emulator.inject("POST", "/launch/", Fault::Status(503), 1);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 2);
    assert_eq!(jobs_for(&emulator, "2026.08.3"), 1);
}

#[test]
fn a_launch_that_never_gets_an_answer_is_sent_at_most_twice() {
    let (emulator, _) = emulator();
    emulator.inject("POST", "/launch/", Fault::Drop, 5);

    let err = deployer(&emulator)
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no clear answer twice"), "{err}");
    assert_eq!(emulator.launches(), 2);
    assert!(emulator.jobs().is_empty());
}

#[test]
fn reads_are_retried_through_5xx_and_dropped_connections() {
    let (emulator, _) = emulator();
    emulator.inject("GET", "/job_templates/", Fault::Status(502), 1);
    emulator.inject("GET", "/jobs/", Fault::Drop, 1);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 1);
}

#[test]
fn unauthorized_is_a_clear_error_without_the_token() {
    let (emulator, _) = emulator();
    let wrong = "wrong-token-5ecr3t-value";
    let deployer = fast(AwxDeployer::new(&config(&emulator, Some(ORG)), wrong).unwrap());

    let err = deployer
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("401"), "{err}");
    assert!(
        err.contains("Authentication credentials were not provided."),
        "{err}"
    );
    assert!(err.contains("AWX_TOKEN"), "{err}");
    assert!(!err.contains(wrong));
    assert!(!format!("{deployer:?}").contains(wrong));
    assert_eq!(emulator.launches(), 0);
}

#[test]
fn a_job_past_the_deploy_timeout_is_an_error_and_is_followed_next_time() {
    let (emulator, _) = emulator();
    emulator.set_polls_to_finish(u32::MAX);
    let impatient = deployer(&emulator).with_deploy_timeout(Duration::from_millis(100));

    let err = impatient
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("did not finish within 100ms"), "{err}");
    assert!(err.contains("still running"), "{err}");
    assert_eq!(emulator.jobs()[0].status, "running");

    emulator.set_polls_to_finish(1);
    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 1);
}

#[test]
fn the_aap_gateway_prefix_works() {
    let emulator = AwxEmulator::start_with_prefix(TOKEN, "/api/controller/v2").unwrap();
    emulator.add_template(TEMPLATE, ORG, true, &[]);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert!(
        emulator
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/controller/v2/"))
    );

    // The default prefix against a gateway is a 404 that points at api_prefix.
    let mut plain = config(&emulator, Some(ORG));
    plain.api = AwxApi::Root("/api/v2".into());
    let err = fast(AwxDeployer::new(&plain, TOKEN).unwrap())
        .deploy(&release("2026.08.4"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("api_prefix"), "{err}");
}

#[test]
fn last_successful_version_is_the_newest_successful_job() {
    let (emulator, template) = emulator();
    let deployer = deployer(&emulator);
    assert_eq!(deployer.last_successful_version().unwrap(), None);

    emulator.seed_job(template, "2026.08.1", "successful");
    emulator.seed_job(template, "2026.08.2", "successful");
    emulator.seed_job(template, "2026.08.3", "failed");
    emulator.seed_job(template, "2026.08.4", "running");
    assert_eq!(
        deployer.last_successful_version().unwrap().as_deref(),
        Some("2026.08.2")
    );
    let running = deployer.job_for_version("2026.08.4").unwrap().unwrap();
    assert!(running.is_active());
    assert_eq!(deployer.job_for_version("2026.08.9").unwrap(), None);
}

#[test]
fn observe_reports_the_versions_job_from_awx_history() {
    let (emulator, template) = emulator();
    let deployer = deployer(&emulator);
    let view = |v: &str| deployer.observe(&release(v)).unwrap().unwrap();

    assert_eq!(view("2026.08.3"), DeployerView::NotLaunched);
    let job = emulator.seed_job(template, "2026.08.3", "running");
    assert!(
        matches!(view("2026.08.3"), DeployerView::Running(d) if d.contains(&format!("#{job}")))
    );
    emulator.set_job_status(job, "failed");
    assert!(matches!(view("2026.08.3"), DeployerView::Failed(d) if d.contains("ended failed")));
    emulator.seed_job(template, "2026.08.3", "successful");
    assert!(matches!(view("2026.08.3"), DeployerView::Succeeded(_)));
    assert_eq!(emulator.launches(), 0);
}

#[test]
fn the_emulator_refuses_to_filter_jobs_on_extra_vars() {
    let (emulator, _) = emulator();
    let mut response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .get(format!(
            "{}/api/v2/jobs/?extra_vars__icontains=2026.08.3",
            emulator.url()
        ))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let body: serde_json::Value = response.body_mut().read_json().unwrap();
    assert_eq!(body["detail"], "Filtering on extra_vars is not allowed.");
}

#[test]
fn a_deployed_version_verifies_live_over_http() {
    let (emulator, _) = emulator();
    emulator.set_version_field("backend", "xchem:2026.08.1");
    let verifier = HttpVerifier::new(
        &format!("{}/version/", emulator.url()),
        &BTreeMap::from([
            ("version.stack".into(), "xchem:{version}".into()),
            ("version.backend".into(), "xchem:{backend}".into()),
        ]),
    )
    .unwrap();

    let before = verifier.verify(&release("2026.08.3")).unwrap();
    assert!(!before.live, "{}", before.detail);
    deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    let after = verifier.verify(&release("2026.08.3")).unwrap();
    assert!(after.live, "{}", after.detail);
}
