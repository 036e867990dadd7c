//! Following the hub: the gateway side of the control loop. The gateway holds one
//! `GET /api/v1/gateway/stream` open (server-sent events, `Last-Event-ID` naming the revision in
//! force); each `snapshot` event is parsed, applied whole, and kept as the last good snapshot,
//! or refused while the running one stays. A status report follows every attempt
//! (`status`), with a heartbeat in between; usage summaries go every `usage_interval` (`usage`).
//!
//! The gateway never waits on the hub: while the stream is down it serves what it has, and it
//! reconnects with a jittered exponential backoff (reset by a stream that delivered a snapshot;
//! the longest wait after a refused token, which may be re-issued). The server's `retry:` is
//! not honoured: the jittered backoff keeps a fleet from reconnecting in step, whatever it says.
//!
//! ```text
//!  connect ─200─▶ read events ─snapshot─▶ parse ─▶ apply ─▶ keep as last good ─▶ report
//!     │               │                     └─ refused ─┴─▶ report with last_error
//!     │               └─ end, error, silence ─▶ wait (doubling) ─▶ connect
//!     ├─ 401, 403 ─▶ wait the longest ─▶ connect
//!     └─ no connection, 5xx, timeout ─▶ wait (doubling) ─▶ connect
//! ```

mod client;
mod status;
mod usage;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::BodyExt as _;
use tokio::sync::mpsc;

pub use client::{HubError, STATUS_PATH, STREAM_PATH, USAGE_PATH};
pub use status::{LastError, StatusBoard, StatusReport, instance_name, request_totals};
pub use usage::{
    MAX_PENDING_SUMMARIES, MAX_SUMMARIES_PER_REPORT, Undelivered, UsageReport, UsageSink, UsageSummary, report_usage,
};

use self::client::HubClient;
use super::LastGood;
use super::backoff::Backoff;
use super::sse::{Event, Parser};
use crate::runtime::Runtime;

/// The largest event accepted: a snapshot with very many consumers, and then some.
pub const MAX_EVENT_BYTES: usize = 64 << 20;
/// Time between usage reports unless configured: a minute, the hub's finest bucket.
pub const DEFAULT_USAGE_INTERVAL: Duration = Duration::from_secs(60);

/// How a gateway follows its hub; `start` builds it from `GatewayConfig`.
#[derive(Clone)]
pub struct HubSettings {
    /// The hub's base URL (`https://hub.example.com`).
    pub url: String,
    /// The gateway token the hub issued. Secret: `Debug` leaves it out.
    pub token: String,
    /// This gateway's name in status reports ([`instance_name`]).
    pub instance: String,
    /// Time between heartbeat status reports.
    pub status_interval: Duration,
    /// Time between usage reports: the period usage is summed over.
    pub usage_interval: Duration,
    /// The first reconnection wait; it doubles with each failure.
    pub reconnect_min: Duration,
    /// The longest reconnection wait, and the wait after a refused token.
    pub reconnect_max: Duration,
    /// Longest wait for a connection and response headers, and for a status post.
    pub request_timeout: Duration,
    /// A stream silent this long is dead (the hub sends a keepalive every 15 s).
    pub idle_timeout: Duration,
}

impl HubSettings {
    /// Settings with the protocol's defaults: status every 10 s, usage every minute, reconnect
    /// from 0.5 s to 30 s.
    pub fn new(url: String, token: String, instance: String) -> HubSettings {
        HubSettings {
            url,
            token,
            instance,
            status_interval: Duration::from_secs(10),
            usage_interval: DEFAULT_USAGE_INTERVAL,
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(45),
        }
    }
}

// Written by hand: the token never reaches a log line.
impl std::fmt::Debug for HubSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSettings")
            .field("url", &self.url)
            .field("token", &"***")
            .field("instance", &self.instance)
            .field("status_interval", &self.status_interval)
            .field("usage_interval", &self.usage_interval)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("request_timeout", &self.request_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

/// Why hub settings cannot work; checked before any port is bound.
#[derive(Debug, thiserror::Error)]
pub enum HubSettingsError {
    #[error("hub_url: {0}")]
    Url(String),
    #[error("hub_token: {0}")]
    Token(&'static str),
}

/// Checks a hub URL and token the way [`HubFollower::new`] will use them.
pub fn check_settings(url: &str, token: &str) -> Result<(), HubSettingsError> {
    client::endpoints(url)?;
    client::authorization(token)?;
    Ok(())
}

/// The control loop of one gateway: built at start, run by [`HubFollower::follow`].
pub struct HubFollower {
    runtime: Arc<Runtime>,
    last_good: Option<LastGood>,
    settings: HubSettings,
    client: HubClient,
    board: Arc<StatusBoard>,
}

impl HubFollower {
    /// A follower applying the hub's snapshots to `runtime` and keeping each in `last_good`.
    pub fn new(
        runtime: Arc<Runtime>,
        last_good: Option<LastGood>,
        settings: HubSettings,
        started: SystemTime,
    ) -> Result<HubFollower, HubSettingsError> {
        let client = HubClient::new(&settings.url, &settings.token, settings.request_timeout)?;
        let board = Arc::new(StatusBoard::new(runtime.clone(), settings.instance.clone(), started));
        Ok(HubFollower {
            runtime,
            last_good,
            settings,
            client,
            board,
        })
    }

    /// Reports usage to the hub every `usage_interval` until `stop` turns true, then once more
    /// ([`report_usage`]). Its own task, apart from [`HubFollower::follow`], so that shutdown can
    /// wait for the last report after the last request.
    pub fn report_usage(&self, stop: tokio::sync::watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
        usage::report_usage(
            self.client.clone(),
            self.runtime.clone(),
            self.settings.instance.clone(),
            self.settings.usage_interval,
            stop,
        )
    }

    /// Follows the hub until dropped (the task aborted): streams snapshots, reconnecting as
    /// long as it takes, and reports status.
    pub async fn follow(self) {
        let (reports, received) = mpsc::channel(16);
        // Dropping the set (when this future is dropped) stops the status reports too.
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(status::report_status(
            self.client.clone(),
            self.board.clone(),
            received,
            self.settings.status_interval,
        ));
        let mut backoff = Backoff::new(self.settings.reconnect_min, self.settings.reconnect_max);
        let hub = self.client.stream_uri().clone();
        loop {
            let mut delivered = false;
            let ended = self.follow_stream(&reports, &mut delivered).await;
            if delivered {
                backoff.reset();
            }
            let wait = match &ended {
                Ok(()) => backoff.next_delay(),
                Err(HubError::Unauthorized { .. }) => backoff.longest_delay(),
                Err(_) => backoff.next_delay(),
            };
            match ended {
                Ok(()) => tracing::info!(%hub, ?wait, "the hub closed the snapshot stream; reconnecting"),
                Err(error @ HubError::Unauthorized { .. }) => tracing::error!(
                    %hub,
                    %error,
                    ?wait,
                    "THE HUB REFUSES THIS GATEWAY: its token is unknown or revoked. Serving the snapshot in force; retrying in case the token is re-issued"
                ),
                Err(error) => {
                    tracing::warn!(%hub, %error, ?wait, "the snapshot stream failed; serving the snapshot in force and reconnecting")
                }
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// One stream, from connecting to its end; `delivered` says whether a snapshot came.
    async fn follow_stream(&self, reports: &mpsc::Sender<StatusReport>, delivered: &mut bool) -> Result<(), HubError> {
        let applied = self
            .runtime
            .is_ready()
            .then(|| self.runtime.current().compiled.revision);
        let mut body = self.client.open_stream(applied).await?;
        tracing::info!(hub = %self.client.stream_uri(), last_event_id = ?applied, "following the hub");
        let mut parser = Parser::new(MAX_EVENT_BYTES);
        let idle = self.settings.idle_timeout;
        loop {
            let frame = tokio::time::timeout(idle, body.frame())
                .await
                .map_err(|_| HubError::Idle(idle))?;
            let Some(frame) = frame else {
                return Ok(());
            };
            let frame = frame.map_err(|error| HubError::Transport(error.to_string()))?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            for event in parser.feed(&chunk)? {
                if event.kind != "snapshot" {
                    tracing::debug!(kind = %event.kind, "ignoring an event the gateway does not know");
                    continue;
                }
                *delivered = true;
                let outcome = self.apply(&event).await;
                self.board.record(outcome.err());
                if reports.try_send(self.board.report()).is_err() {
                    tracing::debug!("status reports are backed up; the next one will say it all");
                }
            }
        }
    }

    /// Parses, applies and keeps one snapshot event; the running snapshot stays on error. A
    /// large snapshot takes a while to parse and compile: that happens off the request workers.
    async fn apply(&self, event: &Event) -> Result<(), LastError> {
        let id = event.id.trim().parse::<u64>().ok();
        let document = bytes::Bytes::from(event.data.clone().into_bytes());
        let (runtime, last_good) = (self.runtime.clone(), self.last_good.clone());
        tokio::task::spawn_blocking(move || apply_document(&runtime, last_good.as_ref(), id, document))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }
}

fn apply_document(
    runtime: &Runtime,
    last_good: Option<&LastGood>,
    id: Option<u64>,
    document: bytes::Bytes,
) -> Result<(), LastError> {
    match runtime.apply_document(document, last_good) {
        Ok(took) => {
            let revision = id.unwrap_or_else(|| runtime.current().compiled.revision);
            tracing::info!(revision, ?took, "snapshot from the hub applied");
            Ok(())
        }
        Err(error) => {
            let revision = id.unwrap_or(0);
            tracing::error!(revision, %error, "snapshot from the hub refused; the running one stays");
            Err(LastError {
                revision,
                message: error.to_string(),
            })
        }
    }
}
