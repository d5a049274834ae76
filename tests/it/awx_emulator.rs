//! The AWX emulator answers like AWX: these tests drive it with a plain HTTP client and check
//! the status codes, bodies and headers the AWX deployer is tested against, each taken from
//! AWX's source (DRF content negotiation and `UnifiedJobStdout`, `awx/api/pagination.py` with
//! `MAX_PAGE_SIZE`, the survey checks of `awx/main/models/mixins.py`, the root views).

use serde_json::{Value, json};
use testkit::emulator::awx::{AwxEmulator, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

const TOKEN: &str = "awx-emulator-token-1a2b";
const TEMPLATE: &str = "Production Fragalysis Stack";

struct Answer {
    status: u16,
    content_type: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
}

fn get(emulator: &AwxEmulator, path_and_query: &str, accept: Option<&str>) -> Answer {
    let mut request = agent()
        .get(format!("{}{path_and_query}", emulator.url()))
        .header("Authorization", format!("Bearer {TOKEN}"));
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    read(request.call().unwrap())
}

fn post(emulator: &AwxEmulator, path: &str, body: &Value) -> Answer {
    read(
        agent()
            .post(format!("{}{path}", emulator.url()))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Accept", "application/json")
            .send_json(body)
            .unwrap(),
    )
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Answer {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        headers,
        body: response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap(),
    }
}

/// An emulator with one template and a failed job for 2026.08.3.
fn with_failed_job() -> (AwxEmulator, u64, u64) {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    let template = emulator.add_template(TEMPLATE, "xchem", true, &[]);
    let job = emulator.seed_job(template, "2026.08.3", "failed");
    (emulator, template, job)
}

#[test]
fn stdout_as_txt_with_accept_json_is_406_as_drf_negotiates() {
    let (emulator, _, job) = with_failed_job();
    let answer = get(
        &emulator,
        &format!("/api/v2/jobs/{job}/stdout/?format=txt"),
        Some("application/json"),
    );
    assert_eq!(answer.status, 406);
    // Rendered by the stdout view's first renderer, the browsable API.
    assert_eq!(answer.content_type, "text/html; charset=utf-8");
    assert!(
        answer
            .body
            .contains("Could not satisfy the request Accept header."),
        "{}",
        answer.body
    );
}

#[test]
fn stdout_formats_answer_with_their_media_types() {
    let (emulator, _, job) = with_failed_job();
    let path = format!("/api/v2/jobs/{job}/stdout/");
    let txt = get(&emulator, &format!("{path}?format=txt"), Some("text/plain"));
    assert_eq!(
        (txt.status, txt.content_type.as_str()),
        (200, "text/plain; charset=utf-8")
    );
    assert!(txt.body.contains("fatal: [production]: FAILED!"));
    assert!(!txt.body.contains('\u{1b}'), "txt has no colours");
    // No Accept header is */*: every renderer is admitted.
    assert_eq!(
        get(&emulator, &format!("{path}?format=txt"), None).status,
        200
    );
    let ansi = get(&emulator, &format!("{path}?format=ansi"), Some("*/*"));
    assert!(ansi.body.contains('\u{1b}'), "ansi keeps the colours");
    let download = get(
        &emulator,
        &format!("{path}?format=txt_download"),
        Some("text/plain"),
    );
    assert_eq!(download.content_type, "text/plain");
    assert_eq!(
        download.header("content-disposition"),
        Some(format!("attachment; filename=\"job_{job}.txt\"").as_str())
    );
    let json = get(
        &emulator,
        &format!("{path}?format=json"),
        Some("application/json"),
    );
    assert_eq!(json.content_type, "application/json");
    assert!(
        json.json()["content"]
            .as_str()
            .unwrap()
            .contains("PLAY RECAP")
    );
    // A format no renderer has is a 404, as DRF's `filter_renderers` raises.
    assert_eq!(
        get(&emulator, &format!("{path}?format=pdf"), None).status,
        404
    );
}

#[test]
fn stdout_json_takes_lines_from_the_end_with_a_negative_start_line() {
    let (emulator, _, job) = with_failed_job();
    let answer = get(
        &emulator,
        &format!("/api/v2/jobs/{job}/stdout/?format=json&start_line=-2"),
        Some("application/json"),
    )
    .json();
    let total = answer["range"]["absolute_end"].as_i64().unwrap();
    assert_eq!(answer["range"]["start"], json!(total - 2));
    assert_eq!(answer["range"]["end"], json!(total));
    let content = answer["content"].as_str().unwrap();
    assert!(content.starts_with("PLAY RECAP"), "{content}");
    assert_eq!(content.lines().count(), 2);
}

#[test]
fn output_over_the_display_limit_is_only_served_as_a_download() {
    let (emulator, _, job) = with_failed_job();
    emulator.pad_output(20_000);
    let path = format!("/api/v2/jobs/{job}/stdout/");
    let txt = get(&emulator, &format!("{path}?format=txt"), Some("text/plain"));
    assert_eq!(txt.status, 200);
    assert!(
        txt.body
            .starts_with("Standard Output too large to display (")
            && txt
                .body
                .ends_with("bytes), only download supported for sizes over 1048576 bytes."),
        "{}",
        txt.body
    );
    let json = get(
        &emulator,
        &format!("{path}?format=json&start_line=-5"),
        None,
    )
    .json();
    assert_eq!(
        json["range"],
        json!({"start": 0, "end": 1, "absolute_end": 1})
    );
    let download = get(
        &emulator,
        &format!("{path}?format=txt_download"),
        Some("text/plain"),
    );
    assert!(download.body.len() > 1_048_576);
    assert!(download.body.contains("PLAY RECAP"));
}

#[test]
fn lists_page_as_awx_pagination_does() {
    let (emulator, template, _) = with_failed_job();
    for n in 0..(MAX_PAGE_SIZE + 9) {
        emulator.seed_job(template, &format!("2026.07.{n}"), "successful");
    }
    let total = MAX_PAGE_SIZE + 10;
    let default = get(&emulator, "/api/v2/jobs/", None).json();
    assert_eq!(default["count"], json!(total));
    assert_eq!(
        default["results"].as_array().unwrap().len(),
        DEFAULT_PAGE_SIZE
    );
    assert_eq!(default["next"], json!("/api/v2/jobs/?page=2"));
    assert_eq!(default["previous"], Value::Null);

    // Over the maximum is cut to it, in the answer and in its links; the query is sorted.
    let big = get(
        &emulator,
        "/api/v2/jobs/?page_size=1000&order_by=-created",
        None,
    )
    .json();
    assert_eq!(big["results"].as_array().unwrap().len(), MAX_PAGE_SIZE);
    assert_eq!(
        big["next"],
        json!("/api/v2/jobs/?order_by=-created&page=2&page_size=200")
    );
    let last = get(
        &emulator,
        "/api/v2/jobs/?order_by=-created&page=2&page_size=200",
        None,
    )
    .json();
    assert_eq!(last["results"].as_array().unwrap().len(), 10);
    assert_eq!(last["next"], Value::Null);
    assert_eq!(
        last["previous"],
        json!("/api/v2/jobs/?order_by=-created&page=1&page_size=200")
    );
    let past = get(&emulator, "/api/v2/jobs/?page=99", None);
    assert_eq!(past.status, 404);
    assert_eq!(past.json(), json!({"detail": "Invalid page."}));
}

#[test]
fn the_versions_root_names_the_api_root_which_lists_resources() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    let root = get(&emulator, "/api/", None).json();
    assert_eq!(root["current_version"], json!("/api/v2/"));
    assert_eq!(root["available_versions"], json!({"v2": "/api/v2/"}));
    let api = get(&emulator, "/api/v2/", None).json();
    assert_eq!(api["job_templates"], json!("/api/v2/job_templates/"));
    assert_eq!(api["jobs"], json!("/api/v2/jobs/"));

    // Behind the AAP gateway the controller's own root is /api/controller/.
    let gateway = AwxEmulator::start_with_prefix(TOKEN, "/api/controller/v2").unwrap();
    let controller = get(&gateway, "/api/controller/", None).json();
    assert_eq!(controller["current_version"], json!("/api/controller/v2/"));
    assert!(controller.get("oauth2").is_none(), "{controller}");
    assert_ne!(
        get(&gateway, "/api/", None).json()["current_version"],
        json!("/api/controller/v2/")
    );
}

#[test]
fn templates_and_jobs_carry_awx_fields_and_related_links() {
    let (emulator, template, job) = with_failed_job();
    let t = get(
        &emulator,
        &format!("/api/v2/job_templates/{template}/"),
        None,
    )
    .json();
    assert_eq!(
        t["related"]["launch"],
        json!(format!("/api/v2/job_templates/{template}/launch/"))
    );
    assert_eq!(
        t["related"]["jobs"],
        json!(format!("/api/v2/job_templates/{template}/jobs/"))
    );
    let j = get(&emulator, &format!("/api/v2/jobs/{job}/"), None).json();
    for field in [
        "started",
        "finished",
        "elapsed",
        "result_traceback",
        "job_explanation",
    ] {
        assert!(j.get(field).is_some(), "{field} in {j}");
    }
    assert!(j["finished"].is_string(), "{j}");
    assert_eq!(
        j["related"]["stdout"],
        json!(format!("/api/v2/jobs/{job}/stdout/"))
    );
}

#[test]
fn a_launch_moves_through_pending_waiting_and_running() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    let template = emulator.add_template(TEMPLATE, "xchem", true, &[]);
    emulator.set_polls_to_finish(4);
    let launched = post(
        &emulator,
        &format!("/api/v2/job_templates/{template}/launch/"),
        &json!({"extra_vars": {"stack_image_tag": "2026.08.3"}}),
    );
    assert_eq!(launched.status, 201);
    assert_eq!(launched.json()["status"], json!("pending"));
    let id = launched.json()["job"].as_u64().unwrap();
    let statuses: Vec<Value> = (0..4)
        .map(|_| get(&emulator, &format!("/api/v2/jobs/{id}/"), None).json()["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        vec![
            json!("waiting"),
            json!("running"),
            json!("running"),
            json!("successful")
        ]
    );
}

#[test]
fn a_survey_validates_launch_values_as_awx_does() {
    let emulator = AwxEmulator::start(TOKEN).unwrap();
    let template = emulator.add_template(TEMPLATE, "xchem", false, &["stack_image_tag"]);
    emulator.set_survey_question(
        template,
        json!({"variable": "stack_image_tag", "question_name": "Tag", "type": "text",
            "required": true, "min": 0, "max": 5, "default": ""}),
    );
    let launch = format!("/api/v2/job_templates/{template}/launch/");
    let too_long = post(
        &emulator,
        &launch,
        &json!({"extra_vars": {"stack_image_tag": "2026.08.3"}}),
    );
    assert_eq!(too_long.status, 400);
    assert_eq!(
        too_long.json(),
        json!({"variables_needed_to_start": [
            "'stack_image_tag' value 2026.08.3 is too large (must be no more than 5)."
        ]})
    );
    let missing = post(&emulator, &launch, &json!({}));
    assert_eq!(
        missing.json(),
        json!({"variables_needed_to_start": ["'stack_image_tag' value missing"]})
    );
    emulator.set_survey_question(
        template,
        json!({"variable": "stack_image_tag", "type": "multiplechoice", "required": true,
            "choices": ["2026.08.1", "2026.08.2"]}),
    );
    let unlisted = post(
        &emulator,
        &launch,
        &json!({"extra_vars": {"stack_image_tag": "2026.08.3"}}),
    );
    assert_eq!(
        unlisted.json(),
        json!({"variables_needed_to_start": [
            "Value 2026.08.3 for 'stack_image_tag' expected to be one of ['2026.08.1', '2026.08.2']."
        ]})
    );
    assert!(emulator.jobs().is_empty());
}
