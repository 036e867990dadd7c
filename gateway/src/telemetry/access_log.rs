//! The access log: one JSON object per request on standard output, written by a background
//! task so a slow terminal or pipe never holds a request up (lines are dropped, and counted,
//! when the writer falls behind).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::mpsc;

use super::Outcome;

/// Lines waiting to be written, at most.
const QUEUE: usize = 8192;

pub struct AccessLog {
    lines: mpsc::Sender<String>,
    /// Lines dropped because the writer fell behind.
    pub dropped: AtomicU64,
}

#[derive(Serialize)]
struct Line<'a> {
    ts_ms: u128,
    request_id: Option<&'a str>,
    method: &'a str,
    path: Option<&'a str>,
    api: Option<&'a str>,
    version: Option<&'a str>,
    user: Option<&'a str>,
    application: Option<&'a str>,
    /// How the caller authenticated: `api_key`, `jwt` or `client_certificate`.
    credential: Option<&'static str>,
    status: u16,
    refusal: Option<&'static str>,
    duration_ms: f64,
    upstream_ms: Option<f64>,
    /// What shadowed rules would have refused, as in `Gatehouse-Shadow-Refusal`; null for nothing.
    shadow_refusal: Option<String>,
}

impl AccessLog {
    /// An access log on standard output; must be made inside a Tokio runtime.
    pub fn stdout() -> AccessLog {
        let (lines, mut queue) = mpsc::channel::<String>(QUEUE);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                let stdout = std::io::stdout();
                while let Some(line) = queue.blocking_recv() {
                    let mut out = stdout.lock();
                    let _ = out.write_all(line.as_bytes());
                    while let Ok(next) = queue.try_recv() {
                        let _ = out.write_all(next.as_bytes());
                    }
                    let _ = out.flush();
                }
            })
            .expect("the access-log thread starts");
        AccessLog {
            lines,
            dropped: AtomicU64::new(0),
        }
    }

    pub(super) fn write(&self, outcome: &Outcome<'_>) {
        let context = outcome.context;
        let api = context.routed.map(|routed| &outcome.loaded.compiled.apis[routed.api]);
        let version = context
            .routed
            .zip(api)
            .and_then(|(routed, api)| routed.version.map(|index| &*api.versions[index].name));
        let line = Line {
            ts_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_millis()),
            request_id: context.request_id.as_ref().and_then(|id| id.to_str().ok()),
            method: outcome.method.as_str(),
            path: Some(outcome.path),
            api: api.map(|api| &*api.name),
            version,
            user: context.caller.as_ref().map(|caller| &*caller.user),
            application: context.caller.as_ref().and_then(|caller| caller.application.as_deref()),
            credential: context.caller.as_ref().map(|caller| caller.credential.as_str()),
            status: outcome.status.as_u16(),
            refusal: context.refusal,
            duration_ms: outcome.started.elapsed().as_secs_f64() * 1000.0,
            upstream_ms: context.upstream_time.map(|time| time.as_secs_f64() * 1000.0),
            shadow_refusal: (!context.shadow.is_empty()).then(|| context.shadow.text()),
        };
        let mut text = serde_json::to_string(&line).expect("a log line always serialises");
        text.push('\n');
        if self.lines.try_send(text).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
