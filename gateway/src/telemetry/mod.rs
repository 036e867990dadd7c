//! Telemetry: Prometheus metrics and the JSON access log, recorded once per request after the
//! response is decided. Labels are the snapshot's own shared strings, so recording allocates
//! only when a label set is seen for the first time.

mod access_log;
mod metrics;

use std::time::Instant;

use http::{Method, StatusCode};

pub use access_log::AccessLog;
pub use metrics::{Metrics, RouteMetrics};

use crate::pipeline::RequestContext;
use crate::runtime::Loaded;

/// Telemetry switches.
#[derive(Debug, Clone, Copy)]
pub struct TelemetrySettings {
    /// Label request metrics with the consumer (user); off for very many consumers.
    pub consumer_labels: bool,
    /// Write one JSON line per request to standard output.
    pub access_log: bool,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            consumer_labels: true,
            access_log: false,
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
}

impl Telemetry {
    pub fn new(settings: TelemetrySettings) -> Telemetry {
        Telemetry {
            metrics: Metrics::new(),
            access_log: settings.access_log.then(AccessLog::stdout),
            settings,
        }
    }

    /// Records a finished request.
    pub fn record(&self, outcome: &Outcome<'_>) {
        self.metrics.record(outcome, self.settings.consumer_labels);
        if let Some(access_log) = &self.access_log {
            access_log.write(outcome);
        }
    }
}
