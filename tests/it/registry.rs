//! Specifies the images in their registry, against the real CNCF distribution registry started
//! on 127.0.0.1 (tests return with a printed reason where it is not installed): a component
//! whose image is missing blocks preflight and nothing is written; found images have their
//! digests in the plan, the status and the deployment record; an htpasswd registry is read
//! with the login from the environment; wrong credentials and a registry that is down block,
//! saying so without the password; the stack's own image is waited for after its build. The
//! Bearer token flow (Docker Hub's) is specified against a small token registry of its own, and
//! references that do not parse are diagnostics in `stackrel.toml`.

use stackrel::apply::{ApplyOptions, ApplyOutcome, Backends, Quiet, apply, preview};
use stackrel::config::{Config, RepoLocation};
use stackrel::demo::Sandbox;
use stackrel::forge::local::LocalForge;
use stackrel::forge::{DeploymentRecord, Forge};
use stackrel::observation::Observation;
use stackrel::plan::{Plan, PlanOptions, Status};
use stackrel::registry::{ImageRef, Login, Logins, Registry, RegistryClient};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::http_server::{self, Reply, Request, Response};
use testkit::registry::{RegistryServer, sha256};
use testkit::sandbox::{all_refs, assert_converged, load, sandbox};

const BACKEND: &str = "xchem/fragalysis-backend";
const FRONTEND: &str = "xchem/fragalysis-frontend";
const STACK: &str = "xchem/fragalysis-stack";
const PASSWORD: &str = "s3cret-Pa55";

/// A demo sandbox whose components (and, if asked, stack) name images on `registry`.
struct World {
    _dir: tempfile::TempDir,
    sandbox: Sandbox,
    /// The declared release's backend and frontend tags, and its version.
    backend: String,
    frontend: String,
    version: String,
}

impl World {
    /// Pushes both component images at the release's tags; their digests.
    fn push_components(&self, registry: &RegistryServer) -> (String, String) {
        (
            registry.push_image(BACKEND, &self.backend),
            registry.push_image(FRONTEND, &self.frontend),
        )
    }
}

fn world(registry: &RegistryServer, stack_image: bool) -> World {
    let (dir, sandbox) = sandbox();
    let path = sandbox.desired.join("stackrel.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    for (pin, repository) in [("BE_IMAGE_TAG", BACKEND), ("FE_IMAGE_TAG", FRONTEND)] {
        let line = format!("pin = \"{pin}\"\n");
        let with_image = format!("{line}image = \"{}\"\n", registry.image(repository));
        config = config.replace(&line, &with_image);
    }
    if stack_image {
        let line = "workflow = \".github/workflows/build-main.yaml\"\n";
        let with_image = format!("{line}image = \"{}\"\n", registry.image(STACK));
        config = config.replace(line, &with_image);
    }
    sandbox
        .commit_desired(&[("stackrel.toml", &config)], "Check the images")
        .unwrap();
    let (config, releases) = load(&sandbox);
    assert!(config.components["backend"].image.is_some());
    let release = releases.last().unwrap();
    World {
        backend: release.components["backend"].clone(),
        frontend: release.components["frontend"].clone(),
        version: release.version.to_string(),
        _dir: dir,
        sandbox,
    }
}

fn options() -> ApplyOptions {
    ApplyOptions {
        gate_timeout: Duration::from_secs(2),
        poll_start: Duration::from_millis(5),
        poll_max: Duration::from_millis(20),
        ..ApplyOptions::default()
    }
}

/// The backends of a read-only look: the sandbox's forge and a registry client.
fn observing<'a>(forge: &'a LocalForge, registry: &'a dyn Registry) -> Backends<'a> {
    Backends {
        forge,
        deployer: None,
        verifier: None,
        registry: Some(registry),
    }
}

/// One observation and plan, as `stackrel plan` makes them.
fn plan_with(world: &World, registry: &dyn Registry) -> Plan {
    let (config, releases) = load(&world.sandbox);
    let forge = LocalForge::new(&world.sandbox.desired);
    let backends = observing(&forge, registry);
    let release = releases.last().unwrap();
    preview(
        &config,
        release,
        &releases,
        &backends,
        PlanOptions::default(),
    )
    .unwrap()
}

fn apply_with(world: &World, registry: &dyn Registry) -> ApplyOutcome {
    let (config, releases) = load(&world.sandbox);
    let forge = LocalForge::new(&world.sandbox.desired);
    let (deployer, verifier) = (world.sandbox.deployer(), world.sandbox.verifier());
    let backends = Backends {
        forge: &forge,
        deployer: Some(&deployer),
        verifier: Some(&verifier),
        registry: Some(registry),
    };
    let release = releases.last().unwrap();
    apply(
        &config,
        release,
        &releases,
        &backends,
        &options(),
        &mut Quiet,
    )
    .unwrap()
}

fn records(world: &World) -> Vec<DeploymentRecord> {
    let stack = RepoLocation::Local(world.sandbox.stack.to_string_lossy().into_owned());
    LocalForge::new(&world.sandbox.desired)
        .deployments(&stack)
        .unwrap()
}

fn anonymous() -> RegistryClient {
    RegistryClient::new(Logins::default())
}

/// The login as `STACKREL_REGISTRY_AUTH` gives it: docker's config.json format.
fn logins_for(registry: &RegistryServer, password: &str) -> Logins {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("ci:{password}"));
    let document = format!(
        r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
        registry.host()
    );
    Logins::from_lookup(|key| (key == "STACKREL_REGISTRY_AUTH").then(|| document.clone())).unwrap()
}

fn step<'a>(plan: &'a Plan, title: &str) -> &'a stackrel::plan::Step {
    plan.steps
        .iter()
        .find(|s| s.title() == title)
        .unwrap_or_else(|| panic!("no step {title}: {plan:#?}"))
}

#[test]
fn a_missing_image_blocks_preflight_and_an_apply_writes_nothing() {
    let Some(registry) = RegistryServer::start() else {
        return;
    };
    let world = world(&registry, false);
    registry.push_image(FRONTEND, &world.frontend);
    let before = all_refs(&world.sandbox);

    let outcome = apply_with(&world, &anonymous());
    let ApplyOutcome::Blocked { step, plan } = outcome else {
        panic!("expected a block, got {outcome:#?}");
    };
    assert_eq!(
        (step.title().as_str(), step.code()),
        ("preflight backend", "image-missing")
    );
    let missing = format!("{}:2026.08.1", registry.image(BACKEND));
    let reason = step.reason.to_string();
    assert!(
        reason.contains(&missing) && reason.contains("components.backend.image"),
        "{reason}"
    );
    assert_eq!(step_status(&plan, "preflight frontend"), Status::Done);
    assert_eq!(all_refs(&world.sandbox), before, "nothing was written");
    assert_eq!(world.sandbox.deploy_count(), 0);
    assert!(records(&world).is_empty());
}

/// The step's status and code are these; the step, for more.
#[track_caller]
fn assert_step(plan: &Plan, title: &str, status: Status, code: &str) -> stackrel::plan::Step {
    let found = step(plan, title);
    assert_eq!(
        (found.status, found.code()),
        (status, code),
        "{title}: {}",
        found.reason
    );
    found.clone()
}

fn step_status(plan: &Plan, title: &str) -> Status {
    step(plan, title).status
}

#[test]
fn found_images_have_their_digests_in_the_plan_the_status_and_the_record() {
    let Some(registry) = RegistryServer::start() else {
        return;
    };
    let world = world(&registry, true);
    let (backend_digest, frontend_digest) = world.push_components(&registry);
    let stack_digest = registry.push_image(STACK, &world.version);
    let client = anonymous();

    let plan = plan_with(&world, &client);
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["images"]["backend"]["digest"], backend_digest.as_str());
    assert_eq!(
        json["images"]["frontend"]["image"],
        format!("{}:{}", registry.image(FRONTEND), world.frontend).as_str()
    );
    assert!(
        json["images"].get("stack").is_none(),
        "the stack image waits for its build"
    );

    assert_converged(&apply_with(&world, &client));
    let record = records(&world).pop().expect("a deployment record");
    let digests: BTreeMap<&str, &str> = record
        .images
        .iter()
        .map(|(name, image)| (name.as_str(), image.digest.as_str()))
        .collect();
    let expected = BTreeMap::from([
        ("backend", backend_digest.as_str()),
        ("frontend", frontend_digest.as_str()),
        ("stack", stack_digest.as_str()),
    ]);
    assert_eq!(digests, expected);

    // Once cut and recorded, the images are settled: nothing asks the registry again.
    let asked = client.request_count();
    let forge = LocalForge::new(&world.sandbox.desired);
    let backends = observing(&forge, &client);
    let (config, releases) = load(&world.sandbox);
    let rows = stackrel::status::status(&config, &releases, &backends).unwrap();
    let row = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(row["images"]["stack"]["digest"], stack_digest.as_str());
    assert_eq!(plan_with(&world, &client).images.len(), 3);
    assert_eq!(
        client.request_count(),
        asked,
        "settled images are not asked about"
    );
}

#[test]
fn a_login_from_the_environment_reads_an_htpasswd_registry() {
    let Some(registry) = RegistryServer::start_with_login("ci", PASSWORD) else {
        return;
    };
    let world = world(&registry, false);
    let (digest, _) = world.push_components(&registry);

    let plan = plan_with(
        &world,
        &RegistryClient::new(logins_for(&registry, PASSWORD)),
    );
    assert_eq!(step_status(&plan, "preflight backend"), Status::Done);
    assert_eq!(plan.images["backend"].digest, digest);

    // Without a login the registry does not say, and that blocks.
    let plan = plan_with(&world, &anonymous());
    let step = assert_step(
        &plan,
        "preflight backend",
        Status::Blocked,
        "registry-unreachable",
    );
    assert!(
        step.reason.to_string().contains("STACKREL_REGISTRY_AUTH"),
        "{}",
        step.reason
    );
}

#[test]
fn wrong_credentials_block_with_a_message_that_does_not_hold_the_password() {
    let Some(registry) = RegistryServer::start_with_login("ci", PASSWORD) else {
        return;
    };
    let world = world(&registry, false);
    world.push_components(&registry);
    let wrong = "wr0ng-Pa55w0rd";
    let before = all_refs(&world.sandbox);

    let client = RegistryClient::new(logins_for(&registry, wrong));
    let outcome = apply_with(&world, &client);
    let ApplyOutcome::Blocked { step, plan } = outcome else {
        panic!("expected a block, got {outcome:#?}");
    };
    assert_eq!(step.code(), "registry-unreachable");
    let reason = step.reason.to_string();
    assert!(
        reason.contains("refused the login of ci") && reason.contains("STACKREL_REGISTRY_AUTH"),
        "{reason}"
    );
    assert!(
        reason.contains(&registry.host()),
        "names the registry: {reason}"
    );
    let everything = format!(
        "{plan:?} {} {client:?}",
        serde_json::to_string(&plan).unwrap()
    );
    assert!(!everything.contains(wrong) && !everything.contains(PASSWORD));
    assert_eq!(all_refs(&world.sandbox), before, "nothing was written");
}

#[test]
fn a_registry_that_is_down_blocks_preflight() {
    let Some(registry) = RegistryServer::start() else {
        return;
    };
    let world = world(&registry, false);
    let host = registry.host();
    registry.stop();

    let client = anonymous().with_request_timeout(Duration::from_secs(2));
    let plan = plan_with(&world, &client);
    for component in ["backend", "frontend"] {
        let title = format!("preflight {component}");
        let step = assert_step(&plan, &title, Status::Blocked, "registry-unreachable");
        let reason = step.reason.to_string();
        assert!(reason.contains(&host), "{reason}");
        assert!(
            reason.contains(&format!("components.{component}.image")),
            "{reason}"
        );
    }
    assert!(plan.images.is_empty());
}

#[test]
fn the_stack_image_is_waited_for_after_the_build_and_then_recorded() {
    let Some(registry) = RegistryServer::start() else {
        return;
    };
    let world = world(&registry, true);
    world.push_components(&registry);
    let client = anonymous();

    // Without a stack CI gate nothing says when the build is done: the image is waited for.
    let outcome = apply_with(&world, &client);
    let ApplyOutcome::TimedOut { step, .. } = outcome else {
        panic!("expected to wait for the stack image, got {outcome:#?}");
    };
    assert_eq!(
        (step.title().as_str(), step.code()),
        ("build", "stack-image-pending")
    );
    assert_eq!(
        world.sandbox.deploy_count(),
        0,
        "nothing deployed without the image"
    );

    let digest = registry.push_image(STACK, &world.version);
    assert_converged(&apply_with(&world, &client));
    assert_eq!(
        records(&world).pop().unwrap().images["stack"].digest,
        digest
    );
}

#[test]
fn the_command_line_reads_the_login_from_the_environment_and_prints_digests() {
    let Some(registry) = RegistryServer::start_with_login("ci", PASSWORD) else {
        return;
    };
    let world = world(&registry, false);
    let (digest, _) = world.push_components(&registry);
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("config.json");
    let login = base64_login(PASSWORD);
    let document = format!(
        r#"{{"auths": {{"{}": {{"auth": "{login}"}}}}}}"#,
        registry.host()
    );
    std::fs::write(&auth, document).unwrap();
    let stackrel = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stackrel"))
            .args(args)
            .current_dir(&world.sandbox.desired)
            .env("STACKREL_REGISTRY_AUTH_FILE", &auth)
            .env_remove("STACKREL_REGISTRY_AUTH")
            .env_remove("DOCKER_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };

    let plan = stackrel(&["plan", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(
        json["images"]["backend"]["digest"],
        digest.as_str(),
        "{json:#}"
    );
    let text = String::from_utf8_lossy(&stackrel(&["plan"]).stdout).into_owned();
    assert!(
        text.contains(&format!(
            "image backend: {}:{}@{digest}",
            registry.image(BACKEND),
            world.backend
        )),
        "{text}"
    );
    assert_eq!(stackrel(&["apply", "--yes"]).status.code(), Some(0));
    let status = stackrel(&["status", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(rows[0]["images"]["backend"]["digest"], digest.as_str());
    assert!(!String::from_utf8_lossy(&status.stderr).contains(PASSWORD));
}

fn base64_login(password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("ci:{password}"))
}

// ---------------------------------------------------------------------------------------------
// The Bearer token flow, against a registry that hands out pull tokens as Docker Hub does
// ---------------------------------------------------------------------------------------------

/// A manifest this token registry serves for `team/app:with-header`, `:without-header`.
const MANIFEST: &str =
    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;

struct TokenRegistry {
    server: http_server::Server,
    token_requests: Arc<AtomicUsize>,
    /// Every `Authorization` header the token endpoint saw.
    token_logins: Arc<Mutex<Vec<String>>>,
}

fn token_registry() -> TokenRegistry {
    let token_requests = Arc::new(AtomicUsize::new(0));
    let token_logins = Arc::new(Mutex::new(Vec::new()));
    let (count, logins) = (token_requests.clone(), token_logins.clone());
    let realm = Arc::new(Mutex::new(String::new()));
    let realm_for_handler = realm.clone();
    let handler = Arc::new(move |request: Request| {
        if request.path == "/token" {
            count.fetch_add(1, Ordering::SeqCst);
            let login = request
                .header("authorization")
                .unwrap_or_default()
                .to_string();
            logins.lock().unwrap().push(login.clone());
            let token = if login.is_empty() {
                "anonymous-token"
            } else {
                "login-token"
            };
            let scope = request.query_param("scope").unwrap_or_default();
            let body = serde_json::json!({"token": format!("{token} {scope}"), "expires_in": 300});
            return Reply::Respond(Response::json(200, &body));
        }
        token_manifest(&request, &realm_for_handler.lock().unwrap())
    });
    let server = http_server::serve("127.0.0.1:0", handler).unwrap();
    *realm.lock().unwrap() = format!("{}/token", server.url());
    TokenRegistry {
        server,
        token_requests,
        token_logins,
    }
}

/// `/v2/team/app/manifests/<tag>`: a challenge without a token, else the manifest.
fn token_manifest(request: &Request, realm: &str) -> Reply {
    let scope = "repository:team/app:pull";
    let authorized = request
        .header("authorization")
        .is_some_and(|a| a.starts_with("Bearer ") && a.ends_with(scope));
    if !authorized {
        let challenge =
            format!(r#"Bearer realm="{realm}",service="test-registry",scope="{scope}""#);
        return Reply::Respond(
            Response::text(401, "unauthorized").with_header("www-authenticate", challenge),
        );
    }
    let digest = sha256(MANIFEST.as_bytes());
    let body = if request.method == "GET" {
        MANIFEST
    } else {
        ""
    };
    let found = Response::new(200, "application/vnd.oci.image.manifest.v1+json", body);
    Reply::Respond(match request.path.as_str() {
        "/v2/team/app/manifests/with-header" => found.with_header("docker-content-digest", digest),
        "/v2/team/app/manifests/without-header" => found,
        _ => Response::text(404, "manifest unknown"),
    })
}

#[test]
fn bearer_tokens_are_fetched_anonymously_or_with_the_login_and_reused() {
    let registry = token_registry();
    let image = ImageRef::parse(&format!("{}/team/app", registry.server.addr)).unwrap();
    let expected = sha256(MANIFEST.as_bytes());

    let client = anonymous();
    assert_eq!(
        client.digest(&image, "with-header").unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        client.digest(&image, "without-header").unwrap(),
        Some(expected.clone()),
        "hashed from a GET"
    );
    assert_eq!(client.digest(&image, "missing").unwrap(), None);
    assert_eq!(
        registry.token_requests.load(Ordering::SeqCst),
        1,
        "one token, reused"
    );
    assert_eq!(
        registry.token_logins.lock().unwrap().as_slice(),
        [""],
        "anonymous"
    );

    let mut logins = Logins::default();
    logins.insert(
        &registry.server.addr.to_string(),
        Login {
            username: "bot".into(),
            password: stackrel::credentials::Secret::new("tok3n"),
        },
    );
    let client = RegistryClient::new(logins);
    assert_eq!(
        client.digest(&image, "with-header").unwrap(),
        Some(expected)
    );
    let sent = registry
        .token_logins
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        sent,
        format!("Basic {}", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode("bot:tok3n")
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Image references in stackrel.toml
// ---------------------------------------------------------------------------------------------

#[test]
fn an_image_reference_that_does_not_parse_is_a_diagnostic_at_its_value() {
    let (_dir, sandbox) = sandbox();
    let config = std::fs::read_to_string(sandbox.desired.join("stackrel.toml")).unwrap();
    let config = config.replace(
        "pin = \"BE_IMAGE_TAG\"\n",
        "pin = \"BE_IMAGE_TAG\"\nimage = \"docker.io/XChem/fragalysis-backend:latest\"\n",
    );
    let config = config.replace(
        "pin = \"FE_IMAGE_TAG\"\n",
        "pin = \"FE_IMAGE_TAG\"\nimage = \"https://ghcr.io/xchem/frontend\"\n",
    );
    let diagnostics = stackrel::validate::config_from_str(&config).unwrap_err();
    let images: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.code == stackrel::validate::IMAGE)
        .collect();
    assert_eq!(images.len(), 2, "{diagnostics:#?}");
    let backend = images
        .iter()
        .find(|d| d.message.contains("components.backend.image"))
        .unwrap();
    assert!(
        backend.message.contains("has a tag (`:latest`)"),
        "{}",
        backend.message
    );
    let line = config.lines().position(|l| l.contains("XChem")).unwrap() + 1;
    assert_eq!(backend.line, Some(line));
    let frontend = images
        .iter()
        .find(|d| d.message.contains("components.frontend.image"))
        .unwrap();
    assert!(
        frontend.message.contains("URL scheme"),
        "{}",
        frontend.message
    );
    assert!(
        frontend
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("ghcr.io/owner/name")
    );

    let fine = config
        .replace(":latest", "")
        .replace("XChem", "xchem")
        .replace("https://", "");
    let resolved = stackrel::validate::config_from_str(&fine).unwrap();
    let image = resolved.components["backend"].image.as_ref().unwrap();
    assert_eq!(image.api_base(), "https://registry-1.docker.io");
}

// ---------------------------------------------------------------------------------------------
// Deployment records
// ---------------------------------------------------------------------------------------------

#[test]
fn image_digests_survive_a_round_trip_through_github_deployments() {
    use stackrel::forge::DeploymentState;
    use stackrel::registry::ImageDigest;
    let w = testkit::github_world::world();
    let forge = testkit::github_world::connect(&w);
    let stack = RepoLocation::parse(testkit::github_world::STACK).unwrap();
    git2::Repository::open(&w.sandbox.stack)
        .unwrap()
        .reference("refs/tags/2026.07.1", w.start, false, "an earlier release")
        .unwrap();
    let images = BTreeMap::from([(
        "backend".to_string(),
        ImageDigest {
            image: "docker.io/xchem/fragalysis-backend:2026.08.1".into(),
            digest: format!("sha256:{}", "ab".repeat(32)),
        },
    )]);
    for state in [DeploymentState::Started, DeploymentState::Verified] {
        let record = DeploymentRecord {
            version: "2026.07.1".into(),
            commit: w.start.to_string(),
            state,
            at: String::new(),
            detail: String::new(),
            images: images.clone(),
        };
        forge.record_deployment(&stack, &record).unwrap();
    }
    let read = testkit::github_world::connect(&w)
        .deployments(&stack)
        .unwrap();
    assert!(!read.is_empty());
    assert!(read.iter().all(|r| r.images == images), "{read:#?}");
}

#[test]
fn records_written_before_images_were_recorded_still_read() {
    let old = r#"[{"version":"2026.08.2","commit":"abc","state":"verified","at":"2026-08-20T10:00:00Z"}]"#;
    let records: Vec<DeploymentRecord> = serde_json::from_str(old).unwrap();
    assert!(records[0].images.is_empty());
    let written = serde_json::to_string(&records).unwrap();
    assert!(!written.contains("images"), "{written}");
}

// ---------------------------------------------------------------------------------------------
// The planner's image rules, on a real observation with one fact changed
// ---------------------------------------------------------------------------------------------

#[test]
fn after_the_cut_images_never_block_and_the_stack_image_is_a_build_gate() {
    use stackrel::observation::{ImageObservation, ImageState, observe};
    let Some(registry) = RegistryServer::start() else {
        return;
    };
    let world = world(&registry, true);
    world.push_components(&registry);
    registry.push_image(STACK, &world.version);
    let client = anonymous();
    assert_converged(&apply_with(&world, &client));
    let (mut config, releases) = load(&world.sandbox);
    let release = releases.last().unwrap();
    let forge = LocalForge::new(&world.sandbox.desired);
    let backends = observing(&forge, &client);
    let mut observed = observe(&config, release, &releases, &backends).unwrap();
    let image = |state| ImageObservation {
        image: "x".into(),
        state,
    };
    let plan_of = |config: &Config, observed: &Observation, options: PlanOptions| {
        stackrel::plan::plan(config, release, &releases, observed, options)
    };

    // A component image gone from the registry after the cut changes nothing.
    observed
        .images
        .insert("backend".into(), image(ImageState::Missing));
    let plan = plan_of(&config, &observed, PlanOptions::default());
    assert_eq!(step_status(&plan, "preflight backend"), Status::Done);

    // Before the deploy, a missing stack image after a green stack build blocks at once…
    observed.deploy.latest_for_version = None;
    observed.deploy.live = None;
    observed
        .images
        .insert("stack".into(), image(ImageState::Missing));
    config.stack.ci = Some("build main".into());
    observed.stack.ci = Some(("build main".into(), stackrel::forge::CiStatus::Success));
    let plan = plan_of(&config, &observed, PlanOptions::default());
    assert_step(&plan, "build", Status::Blocked, "stack-image-missing");

    // …and without a CI gate it is waited for, until the stack's ci_timeout has passed.
    config.stack.ci = None;
    let now = chrono::Utc::now();
    let waited = |minutes| PlanOptions {
        now,
        waiting_since: BTreeMap::from([(
            "build".to_string(),
            now - chrono::Duration::minutes(minutes),
        )]),
        ..PlanOptions::default()
    };
    let plan = plan_of(&config, &observed, waited(5));
    assert_step(&plan, "build", Status::Waiting, "stack-image-pending");
    let plan = plan_of(&config, &observed, waited(61));
    let build = assert_step(&plan, "build", Status::Blocked, "stack-image-missing");
    assert!(
        build.reason.to_string().contains("after 1h 1m"),
        "{}",
        build.reason
    );
}
