//! awxkit, AWX's own Python client, drives the AWX emulator: it discovers the API from `/api/`,
//! finds the template, launches it through `related.launch`, finds the job through
//! `related.jobs`, waits for it and reads its output. When python3 or awxkit is missing the
//! test says so and passes without checking anything (`pip install awxkit` to run it).

use std::io::Write;
use std::process::{Command, Stdio};
use testkit::emulator::awx::AwxEmulator;

const TOKEN: &str = "awxkit-token-5c4d";
const TEMPLATE: &str = "Production Fragalysis Stack";

const SCRIPT: &str = r#"
import json, os
from awxkit import api, config
from awxkit.api.client import Connection

config.base_url = os.environ["AWX_URL"]
connection = Connection(os.environ["AWX_URL"])
connection.login(token=os.environ["AWX_TOKEN"])
root = api.Api(connection=connection).get()
v2 = root.available_versions.v2.get()
template = v2.job_templates.get(name=os.environ["TEMPLATE"]).results[0]
job = template.launch(dict(extra_vars=json.dumps({"stack_image_tag": "2026.08.3"})))
job.wait_until_completed(interval=0.05, timeout=20)
print(json.dumps({"id": job.id, "status": job.status, "stdout": job.result_stdout}))
"#;

fn awxkit_missing() -> Option<String> {
    match Command::new("python3")
        .args(["-c", "import awxkit"])
        .output()
    {
        Err(e) => Some(format!("python3 cannot run ({e})")),
        Ok(out) if !out.status.success() => Some(format!(
            "awxkit is not installed ({})",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => None,
    }
}

#[test]
fn awxkit_launches_a_template_and_reads_its_job() {
    if let Some(why) = awxkit_missing() {
        // CI installs awxkit; missing there, the run is broken, not this test skipped.
        assert!(
            std::env::var_os("STACKREL_REQUIRE_AWXKIT").is_none(),
            "{why} but STACKREL_REQUIRE_AWXKIT is set"
        );
        println!("skipped: {why}; `pip install awxkit` to run this test");
        return;
    }
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    emulator.add_template(TEMPLATE, "xchem", true, &[]);
    emulator.fail_version("2026.08.3");
    let mut child = Command::new("python3")
        .arg("-")
        .env("AWX_URL", emulator.url())
        .env("AWX_TOKEN", TOKEN)
        .env("TEMPLATE", TEMPLATE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SCRIPT.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "awxkit failed:\n{}\nrequests: {:#?}",
        String::from_utf8_lossy(&out.stderr),
        emulator.requests()
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = emulator.jobs().pop().unwrap();
    assert_eq!(seen["id"], serde_json::json!(job.id));
    assert_eq!(seen["status"], serde_json::json!("failed"));
    let stdout = seen["stdout"].as_str().unwrap();
    assert!(stdout.contains("fatal: [production]: FAILED!"), "{stdout}");
    assert_eq!(
        job.variable("stack_image_tag").as_deref(),
        Some("2026.08.3")
    );
}
