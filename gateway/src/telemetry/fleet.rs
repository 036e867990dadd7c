//! The gateway-wide readings: the snapshot in force, upstream targets' health, plans' limits and
//! the shared limit store. Read when Prometheus scrapes or OTLP exports, never on the request
//! path; both exports read them here, so they report the same numbers under the same names.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::runtime::Runtime;
use crate::tls::CertificateInfo;

/// One reading of the gateway-wide metrics.
#[derive(Debug, Default)]
pub struct FleetReadings {
    /// `gatehouse_snapshot_revision`.
    pub revision: u64,
    /// `gatehouse_snapshot_load_duration_seconds`: parse, compile and swap of the last snapshot.
    pub load_seconds: f64,
    /// `gatehouse_snapshot_rejected_total`.
    pub rejected: u64,
    /// `gatehouse_rate_limit_store_failures_total`: checks the shared store did not answer.
    pub store_failures: u64,
    /// `gatehouse_rate_limit_failed_open_total`: of those, requests let through anyway.
    pub failed_open: u64,
    /// `gatehouse_upstream_target_up`.
    pub targets: Vec<TargetReading>,
    /// `gatehouse_plan_rate_limit` and `gatehouse_plan_rate_window_seconds`, for plans with a
    /// rate limit.
    pub plans: Vec<PlanReading>,
    /// `gatehouse_tls_certificate_expiry_seconds`, for the TLS listener's certificates.
    pub certificates: Vec<CertificateReading>,
}

/// How long one of the TLS listener's certificates has left.
#[derive(Debug)]
pub struct CertificateReading {
    pub certificate: String,
    /// Seconds until its not-after; negative once expired.
    pub expiry_seconds: f64,
}

/// Whether one upstream target takes traffic.
#[derive(Debug)]
pub struct TargetReading {
    pub api: Arc<str>,
    pub target: Arc<str>,
    pub up: bool,
}

/// A plan's rate limit: `requests` per `window_seconds`.
#[derive(Debug)]
pub struct PlanReading {
    pub plan: Arc<str>,
    pub requests: u64,
    pub window_seconds: f64,
}

impl FleetReadings {
    /// Reads everything now.
    pub fn read(runtime: &Runtime) -> FleetReadings {
        let (revision, load_seconds, rejected) = runtime.telemetry.metrics.snapshot_readings();
        FleetReadings {
            revision,
            load_seconds,
            rejected,
            store_failures: runtime.limiter.store_failures(),
            failed_open: runtime.limiter.failed_open(),
            targets: targets(runtime),
            plans: plans(runtime),
            certificates: certificates(runtime),
        }
    }

    /// Appends the readings in the text exposition format.
    pub fn encode(&self, text: &mut String) {
        let single = |value: String| vec![(String::new(), value)];
        let targets = self
            .targets
            .iter()
            .map(|target| {
                let labels = format!(
                    "{{gatehouse_api=\"{}\",gatehouse_target=\"{}\"}}",
                    escape(&target.api),
                    escape(&target.target)
                );
                (labels, u8::from(target.up).to_string())
            })
            .collect();
        let plan_labels = |plan: &PlanReading| format!("{{gatehouse_plan=\"{}\"}}", escape(&plan.plan));
        let limits = self
            .plans
            .iter()
            .map(|plan| (plan_labels(plan), plan.requests.to_string()))
            .collect();
        let windows = self
            .plans
            .iter()
            .map(|plan| (plan_labels(plan), plan.window_seconds.to_string()))
            .collect();
        let expiries = self
            .certificates
            .iter()
            .map(|certificate| {
                let labels = format!("{{gatehouse_certificate=\"{}\"}}", escape(&certificate.certificate));
                (labels, certificate.expiry_seconds.to_string())
            })
            .collect();
        let families: [Family; 9] = [
            (
                "gatehouse_snapshot_revision",
                "gauge",
                "",
                "Revision of the snapshot in force",
                single(self.revision.to_string()),
            ),
            (
                "gatehouse_snapshot_load_duration_seconds",
                "gauge",
                "seconds",
                "Time the last snapshot took to parse, compile and swap",
                single(self.load_seconds.to_string()),
            ),
            (
                "gatehouse_snapshot_rejected",
                "counter",
                "",
                "Snapshots refused as invalid",
                single(self.rejected.to_string()),
            ),
            (
                "gatehouse_rate_limit_store_failures",
                "counter",
                "",
                "Rate-limit checks the shared store did not answer",
                single(self.store_failures.to_string()),
            ),
            (
                "gatehouse_rate_limit_failed_open",
                "counter",
                "",
                "Requests let through unlimited because the shared store did not answer",
                single(self.failed_open.to_string()),
            ),
            (
                "gatehouse_upstream_target_up",
                "gauge",
                "",
                "1 when an upstream target takes traffic",
                targets,
            ),
            (
                "gatehouse_plan_rate_limit",
                "gauge",
                "",
                "Requests a plan's rate limit allows per window",
                limits,
            ),
            (
                "gatehouse_plan_rate_window_seconds",
                "gauge",
                "seconds",
                "A plan's rate-limit window",
                windows,
            ),
            (
                "gatehouse_tls_certificate_expiry_seconds",
                "gauge",
                "seconds",
                "Seconds until a TLS listener certificate's not-after",
                expiries,
            ),
        ];
        for (name, kind, unit, help, samples) in families {
            let _ = writeln!(text, "# HELP {name} {help}.\n# TYPE {name} {kind}");
            if !unit.is_empty() {
                let _ = writeln!(text, "# UNIT {name} {unit}");
            }
            // OpenMetrics names a counter's family without `_total`, and its sample with it.
            let suffix = if kind == "counter" { "_total" } else { "" };
            for (labels, value) in samples {
                let _ = writeln!(text, "{name}{suffix}{labels} {value}");
            }
        }
    }
}

/// One metric family of the text format: name, type, unit (or ""), help, and its samples'
/// labels and values.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Vec<(String, String)>,
);

/// Every target of every upstream of the snapshot in force.
pub fn targets(runtime: &Runtime) -> Vec<TargetReading> {
    let loaded = runtime.current();
    let now = crate::proxy::now_ms();
    let mut readings = Vec::new();
    for api in &loaded.compiled.apis {
        let upstreams =
            std::iter::once(&api.upstream).chain(api.versions.iter().filter_map(|version| version.upstream.as_ref()));
        for upstream in upstreams {
            for target in upstream.targets.iter() {
                readings.push(TargetReading {
                    api: api.name.clone(),
                    target: target.url.clone(),
                    up: target.is_available(now),
                });
            }
        }
    }
    readings
}

/// The TLS listener's certificates, the snapshot's then the directory's, with the time each has
/// left. A name in both is the snapshot's.
pub fn certificates(runtime: &Runtime) -> Vec<CertificateReading> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    listener_certificates(runtime)
        .into_iter()
        .map(|(certificate, info)| CertificateReading {
            certificate,
            expiry_seconds: (info.not_after.saturating_sub(now)) as f64,
        })
        .collect()
}

/// The TLS listener's certificates by name, the snapshot's then the directory's; a name in both
/// is the snapshot's. The metric and the hub's fleet view both read them here.
pub fn listener_certificates(runtime: &Runtime) -> Vec<(String, CertificateInfo)> {
    let loaded = runtime.current();
    let files = runtime.tls_files.load();
    let mut certificates: Vec<(String, CertificateInfo)> = Vec::new();
    for certificate in loaded
        .compiled
        .tls
        .table
        .certificates()
        .iter()
        .chain(files.certificates())
    {
        if certificates.iter().any(|(known, _)| *known == certificate.name) {
            continue;
        }
        certificates.push((certificate.name.clone(), certificate.info.clone()));
    }
    certificates
}

/// The rate limits of the snapshot's plans.
pub fn plans(runtime: &Runtime) -> Vec<PlanReading> {
    runtime
        .current()
        .plan_limits
        .iter()
        .filter_map(|limits| {
            let rate = limits.rate()?;
            Some(PlanReading {
                plan: limits.plan_arc().clone(),
                requests: rate.requests,
                window_seconds: rate.window.as_secs_f64(),
            })
        })
        .collect()
}

/// A label value as the text format writes it: `\`, `"` and line feeds escaped.
fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', '"', '\n']) {
        return value.into();
    }
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .into()
}
