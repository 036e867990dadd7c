//! Telemetry: Prometheus metrics and the JSON access log, recorded once per request after the
//! response is decided. Labels are the snapshot's own shared strings, so recording allocates
//! only when a label set is seen for the first time. With an OTLP endpoint, also OpenTelemetry
//! traces and metrics (`otel`); without one, that costs a request a branch and nothing else.
//! With a hub to report to, also usage summaries (`usage`), which the hub stores for analytics.

mod access_log;
mod fleet;
mod metrics;
mod otel;
mod shadow;
mod usage;

use std::time::Instant;

use http::{Method, Request, StatusCode};

pub use access_log::AccessLog;
pub use fleet::{FleetReadings, PlanReading, TargetReading, listener_certificates};
pub use metrics::{GATEWAY_BUCKETS, Metrics, REQUEST_BUCKETS, RequestLabels, RouteMetrics, method_name};
pub use otel::{Otel, OtelError, OtlpSettings, RequestSpan, TRACEPARENT, TRACESTATE};
pub use shadow::{ShadowCounts, ShadowKey, ShadowLabels};
pub use usage::{LATENCY_BUCKETS_MS, N_LATENCY_BUCKETS, UsageAggregator, UsageCounts};

use crate::pipeline::RequestContext;
use crate::runtime::Loaded;

/// Telemetry switches.
#[derive(Debug, Clone, Copy)]
pub struct TelemetrySettings {
    /// Label request metrics with the consumer (user) and application; off for very many
    /// consumers.
    pub consumer_labels: bool,
    /// Write one JSON line per request to standard output.
    pub access_log: bool,
    /// Export traces and metrics over OTLP/HTTP; `None` exports nothing.
    pub otlp: Option<OtlpSettings>,
    /// Count requests into usage summaries for the hub ([`UsageAggregator`]); on when the
    /// gateway follows a hub (`start` sees to it) or runs inside one (`up`). Independent of
    /// `consumer_labels`.
    pub usage_summaries: bool,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            consumer_labels: true,
            access_log: false,
            otlp: None,
            usage_summaries: false,
        }
    }
}

/// What happened to one request.
pub struct Outcome<'a> {
    pub loaded: &'a Loaded,
    pub context: &'a RequestContext,
    pub method: &'a Method,
    pub path: &'a str,
    pub status: StatusCode,
    pub started: Instant,
}

/// Metrics and access log together.
pub struct Telemetry {
    pub metrics: Metrics,
    access_log: Option<AccessLog>,
    settings: TelemetrySettings,
    /// OpenTelemetry export, when an OTLP endpoint is configured; dropping it flushes.
    pub otel: Option<Otel>,
    /// Usage summaries, when `usage_summaries` is on; the hub reporter drains them.
    pub usage: Option<UsageAggregator>,
    /// Would-be refusals of shadowed rules for the usage report, when `usage_summaries` is on.
    pub shadow_usage: Option<ShadowCounts>,
}

impl Telemetry {
    pub fn new(settings: TelemetrySettings) -> Telemetry {
        Telemetry {
            metrics: Metrics::new(),
            access_log: settings.access_log.then(AccessLog::stdout),
            settings,
            otel: settings.otlp.and_then(|otlp| {
                Otel::new(&otlp)
                    .inspect_err(|error| tracing::error!(%error, "OTLP export is off"))
                    .ok()
            }),
            usage: settings.usage_summaries.then(UsageAggregator::new),
            shadow_usage: settings.usage_summaries.then(ShadowCounts::default),
        }
    }

    /// Records a finished request.
    pub fn record(&self, outcome: &Outcome<'_>) {
        let total = outcome.started.elapsed();
        let upstream = outcome.context.upstream_time;
        let (labels, route) = self.metrics.request_labels(outcome, self.settings.consumer_labels);
        self.metrics.record(&labels, route, total, upstream);
        // A request no API was found for is a metric and a log line, not usage of any API.
        if let (Some(usage), Some(route)) = (&self.usage, route) {
            usage.record(outcome, route, total);
        }
        if let Some(access_log) = &self.access_log {
            access_log.write(outcome);
        }
        if let Some(otel) = &self.otel {
            otel.record(&labels, total, upstream);
        }
        // Shadow: only a request a shadowed rule would have refused comes here.
        if !outcome.context.shadow.is_empty() {
            self.record_shadow(outcome, &labels);
        }
    }

    /// Counts each would-be refusal of a request: scrape, OTLP and usage report alike.
    fn record_shadow(&self, outcome: &Outcome<'_>, labels: &RequestLabels) {
        let user = outcome.context.caller.as_ref().map(|caller| &caller.user);
        for refusal in outcome.context.shadow.iter() {
            let shadow_labels = shadow::labels(refusal, labels.gatehouse_consumer.clone());
            self.metrics.shadow.record(&shadow_labels);
            if let Some(otel) = &self.otel {
                otel.record_shadow(&shadow_labels);
            }
            if let Some(shadow_usage) = &self.shadow_usage {
                shadow_usage.add(refusal, user);
            }
        }
    }

    /// Starts the request's server span when OTLP is on: see [`Otel::start_span`].
    pub fn start_span<B>(&self, request: &mut Request<B>) -> Option<RequestSpan> {
        self.otel.as_ref().map(|otel| otel.start_span(request))
    }

    /// Ends the span that [`Telemetry::start_span`] started, with the request's outcome.
    pub fn end_span(&self, span: Option<RequestSpan>, outcome: &Outcome<'_>) {
        if let (Some(otel), Some(span)) = (&self.otel, span) {
            otel.end_span(span, outcome);
        }
    }
}

/// The status classes, in the order [`status_class`] numbers them.
pub const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The index in [`STATUS_CLASSES`] of a status; anything past 5xx counts as 5xx.
pub fn status_class(status: StatusCode) -> usize {
    match status.as_u16() {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}
