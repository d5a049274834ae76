//! The daemon's Prometheus metrics, all named `stackrel_…`. The worker and the webhook count
//! into them as things happen; what describes the current state (ready, the last outcome, the
//! desired and live versions) is read from `DaemonState` when `/metrics` is scraped, so it can
//! never disagree with `/api/status`.
//!
//! Served as the Prometheus text format 0.0.4, whose counters' `# TYPE` lines carry `_total`
//! as their samples do. prometheus-client has no summary type, so the reconcile duration (a
//! sum and a count, no quantiles) is written after the registry's families by hand.

use super::state::DaemonState;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::Mutex;

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    step: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    service: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    event: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
}

/// The time spent reconciling, as a summary without quantiles.
#[derive(Debug, Default)]
struct ReconcileTime {
    seconds: f64,
    count: u64,
}

pub struct Metrics {
    registry: Registry,
    ready: Gauge,
    reconciles: Family<OutcomeLabels, Counter>,
    steps: Family<StepLabels, Counter>,
    api_requests: Family<RequestLabels, Counter>,
    webhooks: Family<WebhookLabels, Counter>,
    rate_limit_remaining: Family<ServiceLabels, Gauge>,
    state: Family<OutcomeLabels, Gauge>,
    desired_version: Family<VersionLabels, Gauge>,
    live_version: Family<VersionLabels, Gauge>,
    duration: Mutex<ReconcileTime>,
    /// The backends count their requests from when they were built; the last counts seen turn
    /// those totals into increments.
    requests_seen: Mutex<HashMap<(String, String), u64>>,
    /// One scrape at a time: the state's gauges are reset and set during a scrape.
    scrape: Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            registry: Registry::with_prefix("stackrel"),
            ready: Gauge::default(),
            reconciles: Family::default(),
            steps: Family::default(),
            api_requests: Family::default(),
            webhooks: Family::default(),
            rate_limit_remaining: Family::default(),
            state: Family::default(),
            desired_version: Family::default(),
            live_version: Family::default(),
            duration: Mutex::new(ReconcileTime::default()),
            requests_seen: Mutex::new(HashMap::new()),
            scrape: Mutex::new(()),
        }
        .registered()
    }

    /// Registers every family in the order the exposition lists them. The registry appends
    /// the full stop to each help text.
    fn registered(mut self) -> Self {
        let up: Gauge = Gauge::default();
        up.set(1);
        let registry = &mut self.registry;
        registry.register("up", "1 while the daemon runs", up);
        let ready = "1 once the first reconcile has finished";
        registry.register("ready", ready, self.ready.clone());
        let reconciles = self.reconciles.clone();
        registry.register("reconciles", "Reconciles by outcome", reconciles);
        let steps = self.steps.clone();
        registry.register("steps", "Steps executed, by step and outcome", steps);
        let requests = "Requests to backends, by service and status";
        registry.register("api_requests", requests, self.api_requests.clone());
        let webhooks = "Webhook deliveries, by event and result";
        registry.register("webhooks", webhooks, self.webhooks.clone());
        let remaining = "GitHub requests left in the current rate-limit window";
        let gauge = self.rate_limit_remaining.clone();
        registry.register("rate_limit_remaining", remaining, gauge);
        let state = "1 for the outcome of the last reconcile";
        registry.register("state", state, self.state.clone());
        let desired = self.desired_version.clone();
        registry.register(
            "desired_version_info",
            "The declared (newest) release",
            desired,
        );
        let live = self.live_version.clone();
        registry.register(
            "live_version_info",
            "The release deployed to production",
            live,
        );
        self
    }

    pub fn reconciled(&self, outcome: &str, took: std::time::Duration) {
        self.reconciles
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
        if let Ok(mut duration) = self.duration.lock() {
            duration.seconds += took.as_secs_f64();
            duration.count += 1;
        }
    }

    pub fn step(&self, step: &str, outcome: &str) {
        self.steps
            .get_or_create(&StepLabels {
                step: step.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Counts a delivery. Both labels are from fixed sets (see `webhook::event_label`): a
    /// label taken from a request would let anyone add series without bound.
    pub fn webhook(&self, event: &'static str, result: &'static str) {
        self.webhooks
            .get_or_create(&WebhookLabels { event, result })
            .inc();
    }

    /// The backends' request totals so far, `(service, status, count)`.
    pub fn api_requests(&self, totals: &[(String, String, u64)]) {
        let Ok(mut seen) = self.requests_seen.lock() else {
            return;
        };
        for (service, status, total) in totals {
            let last = seen.insert((service.clone(), status.clone()), *total);
            let new = total.saturating_sub(last.unwrap_or(0));
            self.api_requests
                .get_or_create(&RequestLabels {
                    service: service.clone(),
                    status: status.clone(),
                })
                .inc_by(new);
        }
    }

    /// New backends count from zero again.
    pub fn backends_replaced(&self) {
        if let Ok(mut seen) = self.requests_seen.lock() {
            seen.clear();
        }
    }

    pub fn rate_limit_remaining(&self, remaining: Option<u64>) {
        self.rate_limit_remaining.clear();
        if let Some(remaining) = remaining {
            self.rate_limit_remaining
                .get_or_create(&ServiceLabels {
                    service: "github".into(),
                })
                .set(i64::try_from(remaining).unwrap_or(i64::MAX));
        }
    }

    /// The Prometheus text exposition, with the state's gauges as `state` has them.
    pub fn render(&self, state: &DaemonState) -> String {
        let _one_at_a_time = self.scrape.lock();
        self.show_state(state);
        let mut text = String::new();
        if prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry).is_err()
        {
            tracing::error!("encoding the metrics failed");
        }
        let (seconds, count) = self
            .duration
            .lock()
            .map(|d| (d.seconds, d.count))
            .unwrap_or_default();
        text.push_str(&format!(
            "# HELP stackrel_reconcile_duration_seconds Time spent reconciling.\n\
             # TYPE stackrel_reconcile_duration_seconds summary\n\
             stackrel_reconcile_duration_seconds_sum {seconds:.6}\n\
             stackrel_reconcile_duration_seconds_count {count}\n"
        ));
        text
    }

    fn show_state(&self, state: &DaemonState) {
        self.ready.set(i64::from(state.ready));
        self.state.clear();
        self.state
            .get_or_create(&OutcomeLabels {
                outcome: state.outcome.label().into(),
            })
            .set(1);
        for (family, version) in [
            (&self.desired_version, &state.desired_version),
            (&self.live_version, &state.live_version),
        ] {
            family.clear();
            if let Some(version) = version {
                family
                    .get_or_create(&VersionLabels {
                        version: version.clone(),
                    })
                    .set(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_prometheus_text_with_the_stackrel_prefix() {
        let metrics = Metrics::new();
        for _ in 0..3 {
            metrics.reconciled("converged", std::time::Duration::from_millis(5));
        }
        metrics.api_requests(&[("github".into(), "304".into(), 7)]);
        let mut state = DaemonState::new();
        state.desired_version = Some("2026.08.3".into());
        let text = metrics.render(&state);
        assert!(text.contains("stackrel_reconciles_total{outcome=\"converged\"} 3"));
        assert!(text.contains("stackrel_api_requests_total{service=\"github\",status=\"304\"} 7"));
        assert!(text.contains("stackrel_desired_version_info{version=\"2026.08.3\"} 1"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("stackrel_"), "{line}");
        }
    }

    /// The names, types and help texts the hand-written exposition had, so dashboards and
    /// alerts written against it keep working.
    #[test]
    fn metric_names_types_and_help_are_unchanged() {
        let metrics = Metrics::new();
        metrics.reconciled("converged", std::time::Duration::from_millis(5));
        metrics.step("deploy", "done");
        metrics.webhook("push", "accepted");
        metrics.api_requests(&[("git".into(), "ok".into(), 2)]);
        metrics.rate_limit_remaining(Some(4999));
        let mut state = DaemonState::new();
        state.ready = true;
        state.desired_version = Some("2026.08.3".into());
        state.live_version = Some("2026.08.2".into());
        let text = metrics.render(&state);
        for family in [
            "up gauge 1 while the daemon runs.",
            "ready gauge 1 once the first reconcile has finished.",
            "reconciles_total counter Reconciles by outcome.",
            "reconcile_duration_seconds summary Time spent reconciling.",
            "steps_total counter Steps executed, by step and outcome.",
            "api_requests_total counter Requests to backends, by service and status.",
            "webhooks_total counter Webhook deliveries, by event and result.",
            "rate_limit_remaining gauge GitHub requests left in the current rate-limit window.",
            "state gauge 1 for the outcome of the last reconcile.",
            "desired_version_info gauge The declared (newest) release.",
            "live_version_info gauge The release deployed to production.",
        ] {
            let mut words = family.splitn(3, ' ');
            let (name, kind, help) = (
                words.next().unwrap(),
                words.next().unwrap(),
                words.next().unwrap(),
            );
            assert!(
                text.contains(&format!(
                    "# HELP stackrel_{name} {help}\n# TYPE stackrel_{name} {kind}\n"
                )),
                "{name}: {text}"
            );
        }
        for sample in [
            "stackrel_up 1",
            "stackrel_ready 1",
            "stackrel_reconciles_total{outcome=\"converged\"} 1",
            "stackrel_reconcile_duration_seconds_count 1",
            "stackrel_steps_total{step=\"deploy\",outcome=\"done\"} 1",
            "stackrel_api_requests_total{service=\"git\",status=\"ok\"} 2",
            "stackrel_webhooks_total{event=\"push\",result=\"accepted\"} 1",
            "stackrel_rate_limit_remaining{service=\"github\"} 4999",
            "stackrel_state{outcome=\"starting\"} 1",
            "stackrel_desired_version_info{version=\"2026.08.3\"} 1",
            "stackrel_live_version_info{version=\"2026.08.2\"} 1",
        ] {
            assert!(text.lines().any(|l| l == sample), "{sample}: {text}");
        }
        assert!(!text.contains("# EOF"), "Prometheus text, not OpenMetrics");
    }

    #[test]
    fn request_totals_become_increments_across_new_backends() {
        let metrics = Metrics::new();
        let github = |n| vec![("github".to_string(), "200".to_string(), n)];
        metrics.api_requests(&github(5));
        metrics.api_requests(&github(8));
        metrics.backends_replaced();
        metrics.api_requests(&github(2));
        let text = metrics.render(&DaemonState::new());
        assert!(
            text.contains("stackrel_api_requests_total{service=\"github\",status=\"200\"} 10"),
            "{text}"
        );
    }

    #[test]
    fn only_the_last_outcome_is_shown() {
        let metrics = Metrics::new();
        let mut state = DaemonState::new();
        state.outcome = super::super::state::Outcome::Invalid;
        metrics.render(&state);
        state.outcome = super::super::state::Outcome::Converged;
        let text = metrics.render(&state);
        assert!(text.contains("stackrel_state{outcome=\"converged\"} 1"));
        assert!(
            !text.contains("stackrel_state{outcome=\"invalid\"}"),
            "{text}"
        );
    }
}
