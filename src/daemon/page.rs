//! The status page a person opens at `/`: desired versus live, what the daemon is doing and why,
//! the plan, and recent events. Server-rendered HTML with no scripts, refreshed by the browser,
//! so it works anywhere and costs nothing while nobody looks.

use super::state::{DaemonState, Outcome};
use crate::plan::Status;

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn badge(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Converged => ("in sync", "ok"),
        Outcome::Waiting => ("waiting", "wait"),
        Outcome::Held => ("held", "wait"),
        Outcome::Starting => ("starting", "wait"),
        Outcome::Blocked => ("blocked", "bad"),
        Outcome::Invalid => ("invalid desired state", "bad"),
        Outcome::Failed => ("failing", "bad"),
        Outcome::Stopped => ("stopped", "wait"),
    }
}

/// The page's style: small, inline, no external requests.
const STYLE: &str = "body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; }
.badge { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-size: .85rem; vertical-align: middle; }
.badge.ok { background: #d8f3dc; color: #1b5e20; } .badge.wait { background: #fff3cd; color: #7a5b00; } .badge.bad { background: #fde2e1; color: #8b1a14; }
.versions { display: flex; gap: 1rem; margin: 1rem 0; }
.versions div { flex: 1; border: 1px solid #d0d7de; border-radius: .5rem; padding: .75rem 1rem; }
.versions b { display: block; font-size: 1.6rem; font-family: ui-monospace, monospace; }
.reason { background: #f6f8fa; border-left: 4px solid #8c959f; padding: .5rem .75rem; margin: 1rem 0; }
.reason.ok { border-left-color: #2da44e; } .reason.wait { border-left-color: #bf8700; } .reason.bad { border-left-color: #cf222e; background: #fff5f5; }
table { width: 100%; border-collapse: collapse; } td { padding: .3rem .5rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
td.mark { width: 1.5rem; text-align: center; font-weight: bold; } td.step, td.status { white-space: nowrap; }
tr.ok td.mark { color: #1b5e20; } tr.todo td.mark { color: #0550ae; } tr.wait td.mark { color: #7a5b00; } tr.bad td { background: #fff5f5; } tr.bad td.mark { color: #8b1a14; }
ul.events { list-style: none; padding: 0; } ul.events li { padding: .15rem 0; } time { color: #57606a; font-family: ui-monospace, monospace; font-size: .85rem; margin-right: .5rem; }
footer { color: #57606a; font-size: .85rem; margin-top: 2rem; }
";

/// One table row per step of the plan, then one per warning.
fn plan_rows(state: &DaemonState) -> String {
    let Some(plan) = &state.plan else {
        return "<tr><td>no plan yet</td></tr>\n".to_string();
    };
    let mut rows = String::new();
    for step in &plan.steps {
        let (mark, cls) = match step.status {
            Status::Done => ("✓", "ok"),
            Status::ToDo => ("+", "todo"),
            Status::Waiting => ("…", "wait"),
            Status::Blocked => ("✗", "bad"),
        };
        rows.push_str(&format!(
            "<tr class=\"{cls}\"><td class=\"mark\">{mark}</td><td class=\"step\">{}</td><td class=\"status\">{}</td><td>{}</td></tr>\n",
            escape(&step.title()),
            escape(&step.status.to_string()),
            escape(&step.reason.to_string())
        ));
    }
    for warning in &plan.warnings {
        rows.push_str(&format!(
            "<tr class=\"wait\"><td class=\"mark\">!</td><td colspan=\"3\">{}</td></tr>\n",
            escape(warning)
        ));
    }
    if rows.is_empty() {
        return "<tr><td>no plan yet</td></tr>\n".to_string();
    }
    rows
}

/// The desired state's validation problems, when there are any.
fn problems_block(state: &DaemonState) -> String {
    if state.problems.is_empty() {
        return String::new();
    }
    let items: String = state
        .problems
        .iter()
        .map(|p| format!("<li>{}</li>", escape(p)))
        .collect();
    format!("<h2>Problems in the desired state</h2><ul>{items}</ul>")
}

/// The newest events, newest first.
fn event_items(state: &DaemonState) -> String {
    state
        .events
        .iter()
        .take(20)
        .map(|e| {
            format!(
                "<li><time>{}</time> {}</li>",
                escape(&e.at),
                escape(&e.message)
            )
        })
        .collect()
}

pub fn render(state: &DaemonState) -> String {
    let (label, class) = badge(state.outcome);
    let desired = escape(state.desired_version.as_deref().unwrap_or("none"));
    let live = escape(state.live_version.as_deref().unwrap_or("nothing recorded"));
    let commit = state
        .desired_commit
        .as_deref()
        .map(|c| c.get(..7).unwrap_or(c))
        .unwrap_or("-");
    let next = state
        .next_check_at
        .as_deref()
        .unwrap_or("on the next trigger");
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stackrel — {desired} {label}</title>
<style>
{STYLE}</style>
</head>
<body>
<h1>stackrel <span class="badge {class}">{label}</span></h1>
<div class="versions">
<div>desired<b>{desired}</b>from commit {commit}</div>
<div>live<b>{live}</b>as recorded by the deploys</div>
</div>
<p class="reason {class}">{reason}</p>
{problems}
<h2>Plan</h2>
<table>
{steps}</table>
<h2>Recent events</h2>
<ul class="events">{events}</ul>
<footer>last reconcile {last}; next check {next}; running since {started}. <a href="/api/status">JSON</a> · <a href="/metrics">metrics</a></footer>
</body>
</html>
"#,
        commit = escape(commit),
        reason = escape(&state.reason),
        problems = problems_block(state),
        steps = plan_rows(state),
        events = event_items(state),
        last = escape(state.last_reconcile_at.as_deref().unwrap_or("never")),
        next = escape(next),
        started = escape(&state.started_at),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        let mut state = DaemonState::new();
        state.reason = "<script>alert(1)</script>".into();
        let html = render(&state);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }
}
