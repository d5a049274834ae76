//! The release ticket, as the Fragalysis release process has it: an issue titled
//! `Release <version>` in m2ms/fragalysis-frontend (adopted when a person wrote it, created once
//! otherwise), assigned to the people who deal with releases, labelled, with one comment kept
//! current, on the board orgs/m2ms/projects/2 in the "push to production" column. Driven through
//! the real GitHub client against the emulator; the board's GraphQL documents are checked against
//! GitHub's published schema.

use stackrel::apply::Quiet;
use stackrel::forge::ForgeError;
use stackrel::forge::github::board::DOCUMENTS;
use stackrel::forge::github_access::MissingAppPermission;
use stackrel::registry::{Logins, RegistryClient};
use stackrel::ticket::{TicketError, TicketReport, keep};
use testkit::emulator::github::{Fault, FaultKind, Issue, LoggedRequest, issue_node_id};
use testkit::github_world::*;
use testkit::registry::RegistryServer;
use testkit::sandbox::assert_converged;

fn fragalysis_world() -> World {
    ticket_world(&fragalysis_ticket_section(), None)
}

fn titled(w: &World, title: &str) -> Vec<Issue> {
    w.github
        .issues(TICKETS)
        .into_iter()
        .filter(|i| i.title == title)
        .collect()
}

fn release_ticket(w: &World) -> Issue {
    let mut found = titled(w, &format!("Release {VERSION}"));
    assert_eq!(found.len(), 1, "exactly one release ticket: {found:#?}");
    found.remove(0)
}

/// The column each board item is in, by the issue's node id.
fn board(w: &World) -> Vec<(String, Option<String>)> {
    let projects = w.github.projects();
    let project = &projects[0];
    let field = &project.fields[0];
    project
        .items
        .iter()
        .map(|item| {
            let option = item
                .values
                .iter()
                .find(|(f, _)| *f == field.id)
                .and_then(|(_, o)| field.options.iter().find(|(id, _)| id == o))
                .map(|(_, name)| name.clone());
            (item.content.clone(), option)
        })
        .collect()
}

fn graphql_calls(log: &[LoggedRequest], field: &str) -> usize {
    log.iter()
        .filter(|r| r.path == "/graphql" && r.body.contains(field))
        .count()
}

/// What a run reports on the ticket, asked of the desk directly (no release is run).
fn keep_once(w: &World) -> Result<Option<stackrel::release::TicketRef>, ForgeError> {
    keep_with(w, &connect(w))
}

fn keep_with(
    w: &World,
    forge: &stackrel::forge::github::GithubForge,
) -> Result<Option<stackrel::release::TicketRef>, ForgeError> {
    let desk = stackrel::forge::Forge::tickets(forge).expect("GitHub keeps tickets");
    keep(
        desk,
        &TicketReport {
            release: w.release(),
            settings: &w.config.ticket,
            summary: "summary",
            state: "cut",
        },
    )
}

#[test]
fn an_open_release_issue_a_person_wrote_is_adopted_not_duplicated() {
    let w = fragalysis_world();
    let theirs = w
        .github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "- #1523\n");
    w.github
        .add_issue(TICKETS, "Release 2026.08.30", "not this one");
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());

    let ticket = release_ticket(&w);
    assert_eq!(ticket.number, theirs);
    // A person's body is theirs: stackrel writes its comment, never over their words.
    assert_eq!(ticket.body.as_deref(), Some("- #1523\n"));
    assert_eq!(ticket.comments.len(), 1);
    assert!(
        ticket.comments[0].body.contains("live:"),
        "{}",
        ticket.comments[0].body
    );
    assert_eq!(ticket.assignees, RELEASERS);
    assert_eq!(ticket.labels, [LABEL]);
    assert_eq!(
        board(&w),
        [(issue_node_id(ticket.id), Some(COLUMN.to_string()))]
    );
    assert_eq!(w.github.issues(TICKETS).len(), 2, "nothing was opened");
}

#[test]
fn without_an_open_issue_the_ticket_is_created_once_even_when_the_create_answer_is_lost() {
    let w = fragalysis_world();
    // A closed ticket of the same title is history, not this release's ticket.
    let old = w
        .github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "abandoned");
    w.github.close_issue(TICKETS, old);
    w.github.inject(Fault {
        method: Some("POST".into()),
        path_contains: format!("/repos/{TICKETS}/issues"),
        kind: FaultKind::LoseResponse,
        times: 1,
    });
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());

    let log = w.github.requests();
    let creates = log
        .iter()
        .filter(|r| r.method == "POST" && r.path == format!("/repos/{TICKETS}/issues"))
        .count();
    assert_eq!(
        creates, 1,
        "the lost create is found by its title, not sent again"
    );
    let open: Vec<Issue> = titled(&w, &format!("Release {VERSION}"))
        .into_iter()
        .filter(|i| i.state == "open")
        .collect();
    assert_eq!(open.len(), 1);
    let ticket = &open[0];
    assert_eq!(ticket.assignees, RELEASERS);
    assert_eq!(ticket.labels, [LABEL]);
    assert_eq!(ticket.comments.len(), 1);
    assert!(
        ticket.body.as_deref().unwrap_or_default().contains("live:"),
        "the body stackrel wrote is kept current: {:?}",
        ticket.body
    );
}

#[test]
fn without_create_and_without_an_open_issue_nothing_is_opened() {
    let section = fragalysis_ticket_section().replace("create = true\n", "");
    let w = ticket_world(&section, None);
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    assert!(w.github.issues(TICKETS).is_empty());
    assert!(w.github.projects()[0].items.is_empty());
}

#[test]
fn the_ticket_body_and_comment_show_versions_tag_links_notes_digests_and_outcome() {
    let Some(registry) = RegistryServer::start() else {
        return;
    };
    let w = ticket_world(&fragalysis_ticket_section(), Some(&registry));
    let client = RegistryClient::new(Logins::default());
    let outcome =
        apply_with_registry(&w, &connect(&w), Some(&client), &mut Quiet).expect("apply runs");
    assert_converged(&outcome);

    let ticket = release_ticket(&w);
    // The emulators' ports and the sandbox's commit ids change from run to run.
    let commit = regex::Regex::new(r"tag at [0-9a-f]{7}").unwrap();
    let redact = |text: &str| {
        let text = text
            .replace(&w.github.url(), "https://github.example")
            .replace(&registry.host(), "registry.example");
        commit.replace_all(&text, "tag at <commit>").into_owned()
    };
    insta::assert_snapshot!(
        "ticket_body",
        redact(ticket.body.as_deref().unwrap_or_default())
    );
    insta::assert_snapshot!("ticket_comment", redact(&ticket.comments[0].body));
}

#[test]
fn the_ticket_is_added_to_the_board_and_moved_once_even_when_both_answers_are_lost() {
    let w = fragalysis_world();
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    w.github
        .inject_graphql("addProjectV2ItemById", FaultKind::LoseResponse, 1);
    w.github
        .inject_graphql("updateProjectV2ItemFieldValue", FaultKind::LoseResponse, 1);
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());

    let log = w.github.requests();
    assert_eq!(graphql_calls(&log, "addProjectV2ItemById"), 1);
    assert_eq!(graphql_calls(&log, "updateProjectV2ItemFieldValue"), 1);
    let ticket = release_ticket(&w);
    assert_eq!(
        board(&w),
        [(issue_node_id(ticket.id), Some(COLUMN.to_string()))]
    );
    // The project, its field and options were looked up once for the whole process.
    assert_eq!(graphql_calls(&log, "StackrelOrganizationBoard"), 1);
}

#[test]
fn keeping_the_ticket_twice_adds_it_to_the_board_and_moves_it_once() {
    let w = fragalysis_world();
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    keep_once(&w).unwrap();
    keep_once(&w).unwrap();
    let log = w.github.requests();
    assert_eq!(graphql_calls(&log, "addProjectV2ItemById"), 1);
    assert_eq!(graphql_calls(&log, "updateProjectV2ItemFieldValue"), 1);
}

#[test]
fn an_unknown_project_names_the_setting_and_the_fix_and_changes_nothing_on_the_board() {
    let section = fragalysis_ticket_section().replace("number = 2", "number = 7");
    let w = ticket_world(&section, None);
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    let error = keep_once(&w).unwrap_err();
    assert!(
        matches!(
            &error,
            ForgeError::Ticket(TicketError::UnknownProject { owner, number: 7 }) if owner == "m2ms"
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("`ticket.project`"), "{text}");
    assert!(
        text.contains("github.com/orgs/m2ms/projects/NUMBER"),
        "{text}"
    );
    assert!(w.github.projects()[0].items.is_empty());
}

#[test]
fn an_unknown_owner_is_an_unknown_project() {
    let section = fragalysis_ticket_section().replace("owner = \"m2ms\"", "owner = \"m2m\"");
    let w = ticket_world(&section, None);
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    let error = keep_once(&w).unwrap_err();
    assert!(
        matches!(&error, ForgeError::Ticket(TicketError::UnknownProject { owner, .. }) if owner == "m2m"),
        "{error:?}"
    );
}

#[test]
fn an_unknown_column_lists_the_columns_there_are() {
    let section = fragalysis_ticket_section().replace(COLUMN, "push to prod");
    let w = ticket_world(&section, None);
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    let text = keep_once(&w).unwrap_err().to_string();
    assert!(
        text.contains("`ticket.project.column` = \"push to prod\""),
        "{text}"
    );
    assert!(text.contains("\"push to production\""), "{text}");
    assert!(w.github.projects()[0].items.is_empty());
}

#[test]
fn an_unknown_field_lists_the_single_select_fields_there_are() {
    let section = fragalysis_ticket_section().replace("field = \"Status\"", "field = \"State\"");
    let w = ticket_world(&section, None);
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    let text = keep_once(&w).unwrap_err().to_string();
    assert!(
        text.contains("`ticket.project.field` = \"State\""),
        "{text}"
    );
    assert!(text.contains("\"Status\""), "{text}");
}

#[test]
fn an_assignee_github_refuses_names_the_setting_and_opens_nothing() {
    let section = fragalysis_ticket_section().replace("\"bob\"", "\"mallory\"");
    let w = ticket_world(&section, None);
    let error = keep_once(&w).unwrap_err();
    assert!(
        matches!(&error, ForgeError::Ticket(TicketError::AssigneeRefused { login, .. }) if login == "mallory"),
        "{error:?}"
    );
    assert!(error.to_string().contains("`ticket.assignees`"), "{error}");
    assert!(w.github.issues(TICKETS).is_empty());
}

#[test]
fn the_preflight_says_what_the_ticket_needs_and_what_is_missing() {
    let section = fragalysis_ticket_section().replace("\"bob\"", "\"mallory\"");
    let w = ticket_world(&section, None);
    w.github.set_token_scopes("repo, read:project");
    let lines: Vec<String> = connect(&w)
        .ticket_access(&w.config.ticket)
        .iter()
        .map(|a| a.line())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(
        lines[0],
        "github: can write issues on m2ms/fragalysis-frontend (release tickets)"
    );
    assert!(lines[1].contains("will not assign mallory"), "{lines:#?}");
    assert!(lines[2].contains("lacks the `project` scope"), "{lines:#?}");
}

#[test]
fn a_token_without_the_project_scope_is_told_so_and_the_ticket_stays_off_the_board() {
    let w = fragalysis_world();
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    w.github.set_token_scopes("repo");
    let text = keep_once(&w).unwrap_err().to_string();
    assert!(
        text.contains("requires one of the following scopes"),
        "{text}"
    );
    assert!(text.contains("the token's `project` scope"), "{text}");
    assert!(w.github.projects()[0].items.is_empty());
}

#[test]
fn the_preflight_names_an_unknown_board() {
    let section = fragalysis_ticket_section().replace("number = 2", "number = 7");
    let w = ticket_world(&section, None);
    let lines: Vec<String> = connect(&w)
        .ticket_access(&w.config.ticket)
        .iter()
        .map(|a| a.line())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("m2ms has no project number 7")),
        "{lines:#?}"
    );
}

#[test]
fn the_emulator_refuses_an_invalid_assignee_with_githubs_422() {
    let w = fragalysis_world();
    let port: u16 = w.github.url().rsplit(':').next().unwrap().parse().unwrap();
    let body = serde_json::json!({"title": "t", "assignees": ["mallory"]}).to_string();
    let authorization = format!("Bearer {TOKEN}");
    let answer = testkit::http::http(
        port,
        "POST",
        &format!("/repos/{TICKETS}/issues"),
        &[
            ("Authorization", &authorization),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 422);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap()["errors"][0],
        serde_json::json!({"value": "mallory", "resource": "Issue", "field": "assignees", "code": "invalid"})
    );
    assert!(w.github.issues(TICKETS).is_empty());
}

// --- A GitHub App ---------------------------------------------------------------------------

fn preflight_lines(w: &World, forge: &stackrel::forge::github::GithubForge) -> Vec<String> {
    forge
        .ticket_access(&w.config.ticket)
        .iter()
        .map(|a| a.line())
        .collect()
}

#[test]
fn an_app_without_organization_projects_write_is_told_so_and_the_board_is_not_touched() {
    let w = fragalysis_world();
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    w.github
        .set_installation_permission("organization_projects", Some("read"));
    let app = connect_app(&w);
    let lines = preflight_lines(&w, &app);
    let lacking: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("organization_projects: read, not write"))
        .collect();
    assert_eq!(lacking.len(), 1, "{lines:#?}");
    assert!(
        lacking[0].contains("Organization permissions → Projects: Read and write")
            && lacking[0].contains("an owner of the m2ms organisation accepts"),
        "how to grant it: {lines:#?}"
    );
    assert!(
        lines[0].contains("can write issues on m2ms/fragalysis-frontend"),
        "{lines:#?}"
    );

    let error = keep_with(&w, &app).unwrap_err();
    assert!(
        matches!(
            &error,
            ForgeError::AppPermission(MissingAppPermission::OrganizationProjects { has, .. })
                if has.as_deref() == Some("read")
        ),
        "{error:?}"
    );
    assert!(w.github.projects()[0].items.is_empty());
    let log = w.github.requests();
    assert_eq!(
        graphql_calls(&log, "addProjectV2ItemById"),
        0,
        "no board change was sent"
    );
}

#[test]
fn an_app_with_organization_projects_write_puts_the_ticket_on_the_board() {
    let w = fragalysis_world();
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    w.github
        .set_installation_permission("organization_projects", Some("write"));
    let app = connect_app(&w);
    let lines = preflight_lines(&w, &app);
    assert!(
        lines.iter().all(|l| !l.contains("cannot")),
        "nothing is missing: {lines:#?}"
    );
    keep_with(&w, &app).unwrap();
    let ticket = release_ticket(&w);
    assert_eq!(
        board(&w),
        [(issue_node_id(ticket.id), Some(COLUMN.to_string()))]
    );
    assert_eq!(ticket.comments.len(), 1);
}

#[test]
fn an_app_without_issues_write_is_told_so_and_opens_nothing() {
    let w = fragalysis_world();
    w.github.set_installation_permission("issues", Some("read"));
    let app = connect_app(&w);
    let lines = preflight_lines(&w, &app);
    assert!(
        lines[0].contains("cannot write issues on m2ms/fragalysis-frontend")
            && lines[0].contains("issues: read, not write")
            && lines[0].contains("Repository permissions → Issues: Read and write"),
        "{lines:#?}"
    );
    let error = keep_with(&w, &app).unwrap_err();
    assert!(
        matches!(
            &error,
            ForgeError::AppPermission(MissingAppPermission::Issues { .. })
        ),
        "{error:?}"
    );
    assert!(w.github.issues(TICKETS).is_empty());
}

/// A token the emulator minted for its App installation, asked for as GitHub asks (with a JWT).
fn installation_token(port: u16) -> String {
    let answer = testkit::http::http(
        port,
        "POST",
        &format!(
            "/app/installations/{}/access_tokens",
            testkit::emulator::github::INSTALLATION_ID
        ),
        &[(
            "Authorization",
            "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2ln",
        )],
        b"",
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    serde_json::from_str::<serde_json::Value>(&answer.body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_emulator_refuses_a_board_change_to_an_installation_without_the_permission_as_github_does() {
    let w = fragalysis_world();
    w.github
        .set_installation_permission("organization_projects", Some("read"));
    let port: u16 = w.github.url().rsplit(':').next().unwrap().parse().unwrap();
    let authorization = format!("Bearer {}", installation_token(port));
    let graphql = |query: &str, variables: serde_json::Value| {
        let body = serde_json::json!({"query": query, "variables": variables}).to_string();
        let answer = testkit::http::http(
            port,
            "POST",
            "/graphql",
            &[
                ("Authorization", &authorization),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        );
        assert_eq!(answer.status, 200, "GraphQL answers refusals with 200");
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap()
    };
    let add = graphql(
        stackrel::forge::github::board::ADD_ITEM,
        serde_json::json!({"project": "PVT_1", "content": "I_1"}),
    );
    assert_eq!(
        add["data"],
        serde_json::json!({"addProjectV2ItemById": null})
    );
    assert_eq!(add["errors"][0]["type"], "FORBIDDEN");
    assert_eq!(
        add["errors"][0]["message"],
        "Resource not accessible by integration"
    );
    assert_eq!(
        add["errors"][0]["path"],
        serde_json::json!(["addProjectV2ItemById"])
    );
    // Reading the board needs only read.
    let read = graphql(
        stackrel::forge::github::board::ORGANIZATION_BOARD,
        serde_json::json!({"owner": BOARD_OWNER, "number": BOARD_NUMBER, "field": "Status"}),
    );
    assert!(read.get("errors").is_none(), "{read}");
    w.github
        .set_installation_permission("organization_projects", None);
    let hidden = graphql(
        stackrel::forge::github::board::ORGANIZATION_BOARD,
        serde_json::json!({"owner": BOARD_OWNER, "number": BOARD_NUMBER, "field": "Status"}),
    );
    assert_eq!(
        hidden["data"]["organization"]["projectV2"],
        serde_json::Value::Null
    );
    assert_eq!(hidden["errors"][0]["type"], "FORBIDDEN");
    assert!(w.github.projects()[0].items.is_empty());
}

// --- GitHub Enterprise Server ---------------------------------------------------------------

#[test]
fn on_github_enterprise_server_the_board_is_reached_at_api_graphql_beside_the_rest_root() {
    let w = fragalysis_world();
    w.github.serve_enterprise_layout();
    let api_url = w.github.url();
    assert!(api_url.ends_with("/api/v3"), "{api_url}");
    keep_once(&w).unwrap();

    let ticket = release_ticket(&w);
    assert_eq!(
        board(&w),
        [(issue_node_id(ticket.id), Some(COLUMN.to_string()))]
    );
    let log = w.github.requests();
    let graphql: Vec<&LoggedRequest> = log
        .iter()
        .filter(|r| r.body.contains("\"query\""))
        .collect();
    assert!(
        graphql.len() >= 3,
        "the board was asked and changed: {log:#?}"
    );
    assert!(
        graphql
            .iter()
            .all(|r| r.path == "/api/graphql" && r.status == 200),
        "{graphql:#?}"
    );
    assert!(
        log.iter().all(|r| r.status != 404 || r.method == "GET"),
        "no write went to a path GHES does not serve: {log:#?}"
    );
    assert!(
        log.iter()
            .filter(|r| !r.body.contains("\"query\""))
            .all(|r| r.path.starts_with("/api/v3/")),
        "REST under /api/v3: {log:#?}"
    );
}

#[test]
fn the_emulator_serves_no_graphql_under_the_enterprise_rest_root() {
    let w = fragalysis_world();
    w.github.serve_enterprise_layout();
    let port: u16 = w
        .github
        .url()
        .trim_end_matches("/api/v3")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let authorization = format!("Bearer {TOKEN}");
    let body = serde_json::json!({"query": "{ viewer { login } }"}).to_string();
    for path in ["/api/v3/graphql", "/graphql"] {
        let answer = testkit::http::http(
            port,
            "POST",
            path,
            &[
                ("Authorization", &authorization),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        );
        assert_eq!(answer.status, 404, "{path}");
    }
}

#[test]
fn every_graphql_document_stackrel_sends_validates_against_githubs_schema() {
    for (name, document) in DOCUMENTS {
        if let Err(e) = testkit::graphql_schema::validate(document) {
            panic!("the {name} document does not validate:\n{e}");
        }
    }
}

#[test]
fn a_misspelled_field_fails_validation() {
    let (_, document) = DOCUMENTS
        .iter()
        .find(|(name, _)| *name == "board item")
        .unwrap();
    let misspelled = document.replace("fieldValueByName", "fieldValueByNam");
    let error = testkit::graphql_schema::validate(&misspelled).unwrap_err();
    assert!(error.contains("fieldValueByNam"), "{error}");
    let misspelled = document.replace("projectItems", "projectsItems");
    assert!(testkit::graphql_schema::validate(&misspelled).is_err());
}

#[test]
fn the_extract_is_what_the_extractor_makes_of_githubs_schema() {
    // The extract's every type and field is GitHub's: the extractor refuses one it lacks. The
    // full schema is not committed; when GITHUB_GRAPHQL_SCHEMA names it (see
    // testkit/graphql/README.md), the committed extract must be exactly what it yields.
    let Some(path) = std::env::var_os("GITHUB_GRAPHQL_SCHEMA") else {
        println!("skipping: GITHUB_GRAPHQL_SCHEMA does not name GitHub's schema.graphql");
        return;
    };
    let full = std::fs::read_to_string(path).unwrap();
    let extract = testkit::graphql_schema::extract(&full).unwrap();
    assert_eq!(
        format!("{}{extract}", testkit::graphql_schema::HEADER),
        testkit::graphql_schema::EXTRACT
    );
}

#[test]
fn a_failed_deploy_is_reported_on_the_ticket() {
    let w = fragalysis_world();
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    w.awx.fail_version(VERSION);
    let outcome = apply_fresh(&w, &mut Quiet).expect("apply runs");
    assert!(
        matches!(outcome, stackrel::apply::ApplyOutcome::Blocked { .. }),
        "{outcome:?}"
    );
    let ticket = release_ticket(&w);
    assert_eq!(ticket.comments.len(), 1);
    assert!(
        ticket.comments[0].body.contains("deploy failed"),
        "{}",
        ticket.comments[0].body
    );
}

#[test]
fn the_plan_names_the_ticket_it_will_report_on() {
    let w = fragalysis_world();
    let plan = plan_with(&w, &connect(&w));
    let report = plan
        .steps
        .iter()
        .find(|s| s.title() == "report")
        .expect("a report step");
    assert!(
        report
            .reason
            .to_string()
            .contains("m2ms/fragalysis-frontend \"Release 2026.08.3\""),
        "{}",
        report.reason
    );
}

#[test]
fn a_whole_release_spends_at_most_13_requests_on_its_ticket_4_of_them_graphql() {
    // Find it by title, check two assignees, assign, find and post the comment, label, look the
    // board up, read the item, add it, move it; at the report, read it again and edit the
    // comment. The board's ids are looked up once.
    let w = fragalysis_world();
    w.github
        .add_issue(TICKETS, &format!("Release {VERSION}"), "planned");
    assert_converged(&apply_fresh(&w, &mut Quiet).unwrap());
    let log = w.github.requests();
    let ticket: Vec<String> = log
        .iter()
        .filter(|r| r.counted && (r.path.contains("/m2ms/") || r.path == "/graphql"))
        .map(|r| format!("{} {}?{} -> {}", r.method, r.path, r.query, r.status))
        .collect();
    assert!(ticket.len() <= 13, "{ticket:#?}");
    assert_eq!(graphql_calls(&log, ""), 4, "{ticket:#?}");
}
