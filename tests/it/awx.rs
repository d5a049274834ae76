//! The AWX deployer against the AWX emulator: one behaviour per test, each checked both by what
//! the deployer returns and by what the emulator saw (its jobs and its request log), because
//! the point of most of these behaviours is a request that must *not* be sent.

use stackrel::config::{AwxApi, AwxDeploy, LaunchedBy, resolve_awx_api};
use stackrel::deploy::awx::AwxDeployer;
use stackrel::deploy::http_verify::HttpVerifier;
use stackrel::deploy::{DeployError, Deployer, DeployerView, ReleaseContext, Verifier};
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
    assert!(
        !outcome.detail.contains("could not be read"),
        "{}",
        outcome.detail
    );
    assert!(!outcome.detail.contains('\u{1b}'), "{}", outcome.detail);
    // AWX serves `format=txt` only to an Accept that admits text/plain; anything else is 406.
    let reads: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/stdout/"))
        .collect();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0].status, Some(200), "{reads:?}");
}

#[test]
fn output_over_awxs_display_limit_is_tailed_from_the_download() {
    let (emulator, _) = emulator();
    emulator.fail_version("2026.08.3");
    emulator.pad_output(20_000);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(!outcome.succeeded);
    assert!(
        outcome.detail.contains("fatal: [production]: FAILED!"),
        "{}",
        outcome.detail
    );
    assert!(outcome.detail.contains("PLAY RECAP"), "{}", outcome.detail);
    assert!(!outcome.detail.contains("too large"), "{}", outcome.detail);
    assert!(
        outcome.detail.len() < 8_000,
        "bounded: {}",
        outcome.detail.len()
    );
    let formats: Vec<String> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/stdout/"))
        .map(|r| r.query)
        .collect();
    assert_eq!(formats, ["format=txt", "format=txt_download"]);
}

#[test]
fn a_job_that_ends_in_error_reports_when_it_ran_and_its_traceback() {
    let (emulator, _) = emulator();
    emulator.error_version("2026.08.3");

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(!outcome.succeeded);
    let detail = &outcome.detail;
    assert!(detail.contains("ended error ("), "{detail}");
    assert!(detail.contains("started 20"), "{detail}");
    assert!(detail.contains("finished 20"), "{detail}");
    assert!(detail.contains("ran "), "{detail}");
    assert!(detail.contains("its traceback ends:"), "{detail}");
    assert!(
        detail.contains("RuntimeError: Pod Running Timeout"),
        "{detail}"
    );
}

#[test]
fn a_survey_that_rejects_the_version_is_reported_with_awxs_reason() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    let template = emulator.add_template(TEMPLATE, ORG, false, &[VARIABLE]);
    emulator.set_survey_question(
        template,
        serde_json::json!({"variable": VARIABLE, "type": "multiplechoice", "required": true,
            "choices": ["2026.08.1", "2026.08.2"]}),
    );

    let err = deployer(&emulator)
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 400"), "{err}");
    assert!(
        err.contains("Value 2026.08.3 for 'stack_image_tag' expected to be one of ['2026.08.1', '2026.08.2']."),
        "{err}"
    );
    assert!(err.contains("survey question"), "{err}");
    assert_eq!(emulator.launches(), 1);
    assert!(emulator.jobs().is_empty());
}

#[test]
fn a_versions_job_past_the_first_page_is_found() {
    let (emulator, template) = emulator();
    emulator.seed_job(template, "2026.08.3", "successful");
    // More newer jobs than AWX's largest page (200), none for this version.
    for n in 0..450 {
        emulator.seed_job(template, &format!("2026.07.{n}"), "failed");
    }

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert!(
        outcome.detail.contains("already deployed"),
        "{}",
        outcome.detail
    );
    assert_eq!(emulator.launches(), 0);
    let pages: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/jobs/"))
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages.iter().all(|p| p.status == Some(200)), "{pages:?}");
}

#[test]
fn templates_sharing_a_name_are_counted_past_the_first_page() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    for n in 0..30 {
        emulator.add_template(TEMPLATE, &format!("org-{n}"), true, &[]);
    }
    let unscoped = fast(AwxDeployer::new(&config(&emulator, None), TOKEN).unwrap());

    let err = unscoped
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("30 job templates named"), "{err}");
}

#[test]
fn the_template_is_looked_up_once_per_process() {
    let (emulator, template) = emulator();
    let deployer = deployer(&emulator);
    deployer.deploy(&release("2026.08.3")).unwrap();
    deployer.deploy(&release("2026.08.4")).unwrap();
    deployer.observe(&release("2026.08.4")).unwrap();
    deployer.last_successful_version().unwrap();

    let lookups = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("{}/job_templates/", emulator.prefix()))
        .count();
    assert_eq!(lookups, 1);
    assert!(emulator.jobs().iter().all(|j| j.template == template));
}

#[test]
fn a_template_recreated_under_a_new_id_is_looked_up_again() {
    let (emulator, old) = emulator();
    let deployer = deployer(&emulator);
    deployer.deploy(&release("2026.08.3")).unwrap();
    emulator.remove_template(old);
    let new = emulator.add_template(TEMPLATE, ORG, true, &[]);

    let outcome = deployer.deploy(&release("2026.08.4")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    let job = emulator.jobs().into_iter().last().unwrap();
    assert_eq!(job.template, new);
    assert_eq!(job.variable(VARIABLE).as_deref(), Some("2026.08.4"));
}

#[test]
fn the_api_is_discovered_from_the_versions_root() {
    let (emulator, _) = emulator();
    let mut discovering = config(&emulator, Some(ORG));
    discovering.api = AwxApi::Discover;

    let outcome = fast(AwxDeployer::new(&discovering, TOKEN).unwrap())
        .deploy(&release("2026.08.3"))
        .unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    let paths: Vec<String> = emulator.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths[..2], ["/api/", "/api/v2/"], "{paths:?}");
}

#[test]
fn behind_the_aap_gateway_the_controller_api_is_discovered() {
    let emulator = AwxEmulator::start_with_prefix(TOKEN, "/api/controller/v2").unwrap();
    emulator.add_template(TEMPLATE, ORG, true, &[]);
    let (url, api) = resolve_awx_api(&emulator.url(), None);
    assert_eq!(api, AwxApi::Discover);
    let discovering = AwxDeploy {
        url,
        api,
        ..config(&emulator, Some(ORG))
    };

    let outcome = fast(AwxDeployer::new(&discovering, TOKEN).unwrap())
        .deploy(&release("2026.08.3"))
        .unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    let paths: Vec<String> = emulator.requests().into_iter().map(|r| r.path).collect();
    // The gateway's own /api/ names the gateway's API, which lists no job templates.
    assert!(paths.contains(&"/api/controller/".to_string()), "{paths:?}");
    assert!(
        paths
            .iter()
            .filter(|p| p.contains("/job_templates/") || p.contains("/jobs/"))
            .all(|p| p.starts_with("/api/controller/v2/")),
        "{paths:?}"
    );
}

#[test]
fn a_url_that_names_the_api_root_is_used_as_it_is() {
    let emulator = AwxEmulator::start_with_prefix(TOKEN, "/api/controller/v2").unwrap();
    emulator.add_template(TEMPLATE, ORG, true, &[]);
    let (url, api) = resolve_awx_api(&format!("{}/api/controller/v2/", emulator.url()), None);
    let named = AwxDeploy {
        url,
        api,
        ..config(&emulator, Some(ORG))
    };

    let outcome = fast(AwxDeployer::new(&named, TOKEN).unwrap())
        .deploy(&release("2026.08.3"))
        .unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert!(
        emulator
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/controller/v2/job")),
        "{:?}",
        emulator.requests()
    );
}

#[test]
fn no_controller_api_anywhere_is_a_clear_error() {
    let emulator = AwxEmulator::start_with_prefix(TOKEN, "/elsewhere/v2").unwrap();
    let mut discovering = config(&emulator, Some(ORG));
    discovering.api = AwxApi::Discover;

    let err = fast(AwxDeployer::new(&discovering, TOKEN).unwrap())
        .deploy(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot find the AWX controller's API"),
        "{err}"
    );
    assert!(err.contains("/api/controller/v2"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
}

#[test]
fn a_queued_job_is_followed_through_waiting_to_its_end() {
    let (emulator, template) = emulator();
    let queued = emulator.seed_job(template, "2026.08.3", "new");
    emulator.set_polls_to_finish(4);
    let deployer = deployer(&emulator);
    assert!(matches!(
        deployer.observe(&release("2026.08.3")).unwrap().unwrap(),
        DeployerView::Running(d) if d.contains("is new")
    ));

    let outcome = deployer.deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 0);
    assert_eq!(emulator.job(queued).unwrap().status, "successful");
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
fn a_launch_whose_job_is_listed_a_moment_after_its_lost_answer_is_followed() {
    let (emulator, _) = emulator();
    emulator.inject("POST", "/launch/", Fault::LoseResponseListedLater(2), 1);

    let outcome = deployer(&emulator).deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 1);
    assert_eq!(jobs_for(&emulator, "2026.08.3"), 1);
}

#[test]
fn a_launch_whose_answer_is_lost_before_its_job_is_listed_is_not_sent_again() {
    let (emulator, _) = emulator();
    emulator.inject("POST", "/launch/", Fault::LoseResponseListedLater(3), 1);
    let deployer = deployer(&emulator);

    let err = deployer.deploy(&release("2026.08.3")).unwrap_err();
    assert!(matches!(err, DeployError::Unclear(_)), "{err}");
    assert!(err.to_string().contains("not launched again"), "{err}");
    assert_eq!(emulator.launches(), 1);
    assert_eq!(jobs_for(&emulator, "2026.08.3"), 1);
}

#[test]
fn the_next_look_after_an_unclear_launch_finds_and_follows_its_job() {
    let (emulator, _) = emulator();
    emulator.inject("POST", "/launch/", Fault::LoseResponseListedLater(3), 1);
    let deployer = deployer(&emulator);
    deployer.deploy(&release("2026.08.3")).unwrap_err();

    let view = deployer.observe(&release("2026.08.3")).unwrap().unwrap();
    assert!(matches!(view, DeployerView::Running(_)), "{view:?}");
    let outcome = deployer.deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 1);
    assert_eq!(jobs_for(&emulator, "2026.08.3"), 1);
}

#[test]
fn a_launch_answered_with_a_gateway_5xx_is_unclear_and_sent_once() {
    let (emulator, _) = emulator();
    emulator.inject("POST", "/launch/", Fault::Status(502), 1);
    let deployer = deployer(&emulator);

    let err = deployer.deploy(&release("2026.08.3")).unwrap_err();
    assert!(matches!(err, DeployError::Unclear(_)), "{err}");
    assert!(err.to_string().contains("HTTP 502"), "{err}");
    assert_eq!(emulator.launches(), 1);
    assert_eq!(
        deployer.observe(&release("2026.08.3")).unwrap(),
        Some(DeployerView::NotLaunched)
    );
}

#[test]
fn after_an_unclear_launch_that_did_not_happen_the_next_deploy_launches_once() {
    let (emulator, _) = emulator();
    emulator.inject("POST", "/launch/", Fault::Drop, 1);
    let deployer = deployer(&emulator);
    deployer.deploy(&release("2026.08.3")).unwrap_err();
    assert!(emulator.jobs().is_empty());

    let outcome = deployer.deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
    assert_eq!(emulator.launches(), 2);
    assert_eq!(jobs_for(&emulator, "2026.08.3"), 1);
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
    assert!(
        matches!(view("2026.08.3"), DeployerView::Failed(d) if d.contains("ended failed (started 20"))
    );
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

#[test]
fn an_awx_that_links_empty_pages_without_end_is_read_one_page() {
    let (emulator, _) = emulator();
    emulator.inject("GET", "/jobs/", Fault::EmptyPage, u32::MAX);

    let view = deployer(&emulator).observe(&release("2026.08.3")).unwrap();
    assert_eq!(view, Some(DeployerView::NotLaunched));
    assert_eq!(emulator.count("GET", "/jobs/"), 1);
}

#[test]
fn the_jobs_scan_stops_after_a_bounded_number_of_pages() {
    let (emulator, template) = emulator();
    emulator.set_max_page_size(1);
    let someone = emulator.someone_else();
    for n in 0..80 {
        someone.launch(template, &format!("2026.07.{n}"), "successful");
    }

    let view = deployer(&emulator).observe(&release("2026.08.3")).unwrap();
    assert_eq!(view, Some(DeployerView::NotLaunched));
    let pages = emulator.count("GET", "/jobs/");
    assert!((1..=50).contains(&pages), "{pages} pages of jobs read");
}

#[test]
fn an_answer_over_the_size_limit_is_a_clear_error_and_not_asked_again() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use testkit::http_server::{self, Reply, Request, Response};
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let server = http_server::serve(
        "127.0.0.1:0",
        Arc::new(move |_: Request| {
            count.fetch_add(1, Ordering::Relaxed);
            let body = format!("{{\"results\": [\"{}\"]}}", "x".repeat(9 * 1024 * 1024));
            Reply::Respond(Response::new(200, "application/json", body))
        }),
    )
    .unwrap();
    let config = AwxDeploy {
        url: server.url(),
        api: AwxApi::Root("/api/v2".into()),
        template: TEMPLATE.into(),
        organization: None,
        variable: VARIABLE.into(),
        timeout: Duration::from_secs(30),
        launched_by: LaunchedBy::Stackrel,
    };
    let deployer = fast(AwxDeployer::new(&config, TOKEN).unwrap());

    let err = deployer
        .observe(&release("2026.08.3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("larger than 8388608 bytes"), "{err}");
    assert!(err.contains("/api/v2/job_templates/"), "{err}");
    assert_eq!(served.load(Ordering::Relaxed), 1);
}

#[test]
fn a_deploy_timeout_too_large_for_the_clock_follows_the_job_without_a_deadline() {
    let (emulator, _) = emulator();
    let deployer = deployer(&emulator).with_deploy_timeout(Duration::MAX);

    let outcome = deployer.deploy(&release("2026.08.3")).unwrap();
    assert!(outcome.succeeded, "{}", outcome.detail);
}
