//! What a gateway tells its hub about itself (`POST /api/v1/gateway/status`): who it is, which
//! revision it enforces, what it last refused, and how much traffic it has seen. `hub` sends a
//! report after every snapshot it tries to apply; [`report_status`] sends them, and a heartbeat
//! every `status_interval` in between.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::mpsc;

use super::client::HubClient;
use crate::runtime::Runtime;

/// The status body, as the hub reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// `<hostname or listen address>-<pid>`: tells replicas apart, and restarts too.
    pub instance: String,
    /// This gateway's version.
    pub version: &'static str,
    /// When this process started, RFC 3339 in UTC.
    pub started_at: String,
    /// The revision in force; `null` until a snapshot is applied.
    pub applied_revision: Option<u64>,
    /// Why the last snapshot from the hub was refused; `null` once a later one applies.
    pub last_error: Option<LastError>,
    /// Requests answered since start, refusals included.
    pub requests: u64,
    /// Requests refused since start (any rule: route, credentials, access, rate limit, upstream).
    pub refusals: u64,
    /// The certificates the TLS listener holds, so the fleet view can warn before one expires.
    pub certificates: Vec<CertificateStatus>,
}

/// One of the TLS listener's certificates, as the hub's fleet view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateStatus {
    /// The certificate's name: the hub's certificate, or the file stem in `--tls-cert-dir`.
    pub name: String,
    /// The DNS names SNI picks it for.
    pub hosts: Vec<String>,
    /// When it stops being valid, RFC 3339 in UTC.
    pub not_after: String,
}

/// A snapshot the gateway refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastError {
    /// The refused revision (the event's id, or the snapshot's own `revision`).
    pub revision: u64,
    /// The parse or apply error, naming the field.
    pub message: String,
}

/// The gateway's side of its status, shared by the stream loop (which records what it applied
/// or refused) and the heartbeat.
pub struct StatusBoard {
    runtime: Arc<Runtime>,
    instance: String,
    started_at: String,
    last_error: Mutex<Option<LastError>>,
}

impl StatusBoard {
    pub fn new(runtime: Arc<Runtime>, instance: String, started: SystemTime) -> StatusBoard {
        let started_at =
            chrono::DateTime::<chrono::Utc>::from(started).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        StatusBoard {
            runtime,
            instance,
            started_at,
            last_error: Mutex::new(None),
        }
    }

    /// Records the outcome of an apply attempt: `None` after a success.
    pub fn record(&self, last_error: Option<LastError>) {
        *self.last_error.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = last_error;
    }

    /// The status as of now.
    pub fn report(&self) -> StatusReport {
        let metrics = self
            .runtime
            .telemetry
            .metrics
            .encode(&crate::telemetry::FleetReadings::default());
        let (requests, refusals) = request_totals(&metrics);
        StatusReport {
            instance: self.instance.clone(),
            version: env!("CARGO_PKG_VERSION"),
            started_at: self.started_at.clone(),
            applied_revision: self
                .runtime
                .is_ready()
                .then(|| self.runtime.current().compiled.revision),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
            requests,
            refusals,
            certificates: crate::telemetry::listener_certificates(&self.runtime)
                .into_iter()
                .map(|(name, info)| CertificateStatus {
                    name,
                    hosts: info.dns_names,
                    not_after: chrono::DateTime::from_timestamp(info.not_after, 0)
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                })
                .collect(),
        }
    }
}

/// Posts each report `reports` brings, and the board's report every `interval` in between (the
/// first at once, so the hub sees a gateway as soon as it starts). A failed post is logged and
/// dropped: the next report says everything again.
pub async fn report_status(
    client: HubClient,
    board: Arc<StatusBoard>,
    mut reports: mpsc::Receiver<StatusReport>,
    interval: Duration,
) {
    let mut heartbeat = tokio::time::interval(interval);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        let report = tokio::select! {
            Some(report) = reports.recv() => {
                heartbeat.reset();
                report
            }
            _ = heartbeat.tick() => board.report(),
        };
        match client.post_status(&report).await {
            Ok(()) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("status reports reach the hub again");
                }
            }
            // Said once per outage, not every heartbeat.
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "could not report the gateway's status to the hub");
            }
            Err(error) => tracing::debug!(%error, "could not report the gateway's status to the hub"),
        }
    }
}

/// `<hostname>-<pid>`, or `<listen address>-<pid>` where the host has no name to read.
pub fn instance_name(listen: SocketAddr) -> String {
    let hostname = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| name.trim().to_owned())
        .find(|name| !name.is_empty());
    format!(
        "{}-{}",
        hostname.unwrap_or_else(|| listen.to_string()),
        std::process::id()
    )
}

/// Requests and refusals since start, summed from the Prometheus text the admin port serves, so
/// the hub and Prometheus count the same thing: every request is one count of
/// `http_server_request_duration_seconds`, and a refused one names its rule.
pub fn request_totals(metrics: &str) -> (u64, u64) {
    let (mut requests, mut refusals) = (0, 0);
    for line in metrics.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let value = value as u64;
        if series.starts_with("http_server_request_duration_seconds_count{") {
            requests += value;
            if !series.contains("gatehouse_refusal=\"\"") {
                refusals += value;
            }
        }
    }
    (requests, refusals)
}

#[cfg(test)]
mod tests;
