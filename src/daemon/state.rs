//! What the daemon knows about itself, shared between the reconcile worker (which writes it)
//! and the HTTP server (which shows it as JSON, as a page and as metrics).

use crate::plan::Plan;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// How many recent events the status page keeps.
const EVENTS_KEPT: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: String,
    pub message: String,
}

/// The outcome of the last reconcile, in one word a person and a metric label can share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Starting,
    Converged,
    Waiting,
    Blocked,
    Held,
    /// The desired state does not validate: nothing converges (fail closed).
    Invalid,
    Failed,
    Stopped,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Starting => "starting",
            Outcome::Converged => "converged",
            Outcome::Waiting => "waiting",
            Outcome::Blocked => "blocked",
            Outcome::Held => "held",
            Outcome::Invalid => "invalid",
            Outcome::Failed => "failed",
            Outcome::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DaemonState {
    pub started_at: String,
    /// True once the desired state has been read and the backends are up (or the first
    /// reconcile has ended, whatever its outcome).
    pub ready: bool,
    pub outcome: Outcome,
    /// One line: why it is in that state (the waiting step's reason, the first error…).
    pub reason: String,
    pub desired_commit: Option<String>,
    pub desired_version: Option<String>,
    pub live_version: Option<String>,
    pub plan: Option<Plan>,
    /// Validation problems of the desired state, when invalid.
    pub problems: Vec<String>,
    pub last_reconcile_at: Option<String>,
    pub next_check_at: Option<String>,
    pub events: VecDeque<Event>,
    #[serde(skip)]
    pub counters: Counters,
}

/// Monotonic counters for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub reconciles: BTreeMap<&'static str, u64>,
    pub reconcile_seconds_sum: f64,
    pub reconcile_count: u64,
    /// (step, outcome) → count.
    pub steps: BTreeMap<(String, &'static str), u64>,
    /// (event, result) → count.
    pub webhooks: BTreeMap<(String, &'static str), u64>,
    /// (service, status) → count, as last reported by the backends (already cumulative).
    pub api_requests: BTreeMap<(String, String), u64>,
    pub rate_limit_remaining: Option<u64>,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl DaemonState {
    pub fn new() -> Self {
        DaemonState {
            started_at: now(),
            ready: false,
            outcome: Outcome::Starting,
            reason: "the first reconcile has not finished yet".into(),
            desired_commit: None,
            desired_version: None,
            live_version: None,
            plan: None,
            problems: Vec::new(),
            last_reconcile_at: None,
            next_check_at: None,
            events: VecDeque::new(),
            counters: Counters::default(),
        }
    }

    pub fn event(&mut self, message: impl Into<String>) {
        self.events.push_front(Event {
            at: now(),
            message: message.into(),
        });
        self.events.truncate(EVENTS_KEPT);
    }
}

impl Default for DaemonState {
    fn default() -> Self {
        Self::new()
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    out.push_str(&format!(
        "# HELP stackrel_{name} {help}\n# TYPE stackrel_{name} {kind}\n"
    ));
}

fn sample(out: &mut String, line: String) {
    out.push_str(&line);
    out.push('\n');
}

/// The Prometheus text exposition of the state.
pub fn metrics(state: &DaemonState) -> String {
    let c = &state.counters;
    let mut out = String::new();
    family(&mut out, "up", "gauge", "1 while the daemon runs.");
    sample(&mut out, "stackrel_up 1".into());
    family(
        &mut out,
        "ready",
        "gauge",
        "1 once the first reconcile has finished.",
    );
    sample(
        &mut out,
        format!("stackrel_ready {}", u8::from(state.ready)),
    );
    family(
        &mut out,
        "reconciles_total",
        "counter",
        "Reconciles by outcome.",
    );
    for (outcome, n) in &c.reconciles {
        sample(
            &mut out,
            format!("stackrel_reconciles_total{{outcome=\"{outcome}\"}} {n}"),
        );
    }
    family(
        &mut out,
        "reconcile_duration_seconds",
        "summary",
        "Time spent reconciling.",
    );
    sample(
        &mut out,
        format!(
            "stackrel_reconcile_duration_seconds_sum {:.6}",
            c.reconcile_seconds_sum
        ),
    );
    sample(
        &mut out,
        format!(
            "stackrel_reconcile_duration_seconds_count {}",
            c.reconcile_count
        ),
    );
    family(
        &mut out,
        "steps_total",
        "counter",
        "Steps executed, by step and outcome.",
    );
    for ((step, outcome), n) in &c.steps {
        sample(
            &mut out,
            format!(
                "stackrel_steps_total{{step=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape_label(step)
            ),
        );
    }
    family(
        &mut out,
        "api_requests_total",
        "counter",
        "Requests to backends, by service and status.",
    );
    for ((service, status), n) in &c.api_requests {
        sample(
            &mut out,
            format!(
                "stackrel_api_requests_total{{service=\"{}\",status=\"{}\"}} {n}",
                escape_label(service),
                escape_label(status)
            ),
        );
    }
    family(
        &mut out,
        "webhooks_total",
        "counter",
        "Webhook deliveries, by event and result.",
    );
    for ((event, result), n) in &c.webhooks {
        sample(
            &mut out,
            format!(
                "stackrel_webhooks_total{{event=\"{}\",result=\"{result}\"}} {n}",
                escape_label(event)
            ),
        );
    }
    if let Some(remaining) = c.rate_limit_remaining {
        family(
            &mut out,
            "rate_limit_remaining",
            "gauge",
            "GitHub requests left in the current rate-limit window.",
        );
        sample(
            &mut out,
            format!("stackrel_rate_limit_remaining{{service=\"github\"}} {remaining}"),
        );
    }
    family(
        &mut out,
        "state",
        "gauge",
        "1 for the outcome of the last reconcile.",
    );
    sample(
        &mut out,
        format!("stackrel_state{{outcome=\"{}\"}} 1", state.outcome.label()),
    );
    family(
        &mut out,
        "desired_version_info",
        "gauge",
        "The declared (newest) release.",
    );
    if let Some(v) = &state.desired_version {
        sample(
            &mut out,
            format!(
                "stackrel_desired_version_info{{version=\"{}\"}} 1",
                escape_label(v)
            ),
        );
    }
    family(
        &mut out,
        "live_version_info",
        "gauge",
        "The release deployed to production.",
    );
    if let Some(v) = &state.live_version {
        sample(
            &mut out,
            format!(
                "stackrel_live_version_info{{version=\"{}\"}} 1",
                escape_label(v)
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_prometheus_text_with_the_stackrel_prefix() {
        let mut state = DaemonState::new();
        state.counters.reconciles.insert("converged", 3);
        state
            .counters
            .api_requests
            .insert(("github".into(), "304".into()), 7);
        state.desired_version = Some("2026.08.3".into());
        let text = metrics(&state);
        assert!(text.contains("stackrel_reconciles_total{outcome=\"converged\"} 3"));
        assert!(text.contains("stackrel_api_requests_total{service=\"github\",status=\"304\"} 7"));
        assert!(text.contains("stackrel_desired_version_info{version=\"2026.08.3\"} 1"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("stackrel_"), "{line}");
        }
    }

    #[test]
    fn events_keep_the_newest_first_and_are_bounded() {
        let mut state = DaemonState::new();
        for i in 0..60 {
            state.event(format!("e{i}"));
        }
        assert_eq!(state.events.len(), EVENTS_KEPT);
        assert_eq!(state.events[0].message, "e59");
    }
}
