//! Telemetry: Prometheus metrics and the JSON access log, recorded once per request after the
//! response is decided. Labels are the snapshot's own shared strings, so recording allocates
//! only when a label set is seen for the first time. With an OTLP endpoint, also OpenTelemetry
//! traces and metrics (`otel`); without one, that costs a request a branch and nothing else.

mod access_log;
mod metrics;
mod otel;

use std::time::Instant;

use http::{Method, Request, StatusCode};

pub use access_log::AccessLog;
pub use metrics::{Metrics, RouteMetrics};
pub use otel::{Otel, OtelError, OtlpSettings, RequestSpan, TRACEPARENT, TRACESTATE};

use crate::pipeline::RequestContext;
use crate::runtime::Loaded;

/// Telemetry switches.
#[derive(Debug, Clone, Copy)]
pub struct TelemetrySettings {
    /// Label request metrics with the consumer (user); off for very many consumers.
    pub consumer_labels: bool,
    /// Write one JSON line per request to standard output.
    pub access_log: bool,
    /// Export traces and metrics over OTLP/HTTP; `None` exports nothing.
    pub otlp: Option<OtlpSettings>,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            consumer_labels: true,
            access_log: false,
            otlp: None,
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
        }
    }

    /// Records a finished request.
    pub fn record(&self, outcome: &Outcome<'_>) {
        self.metrics.record(outcome, self.settings.consumer_labels);
        if let Some(access_log) = &self.access_log {
            access_log.write(outcome);
        }
        if let Some(otel) = &self.otel {
            otel.record(outcome);
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
