//! The gateway role's configuration: one typed struct, filled by the binary from flags,
//! `GATEHOUSE_*` environment variables and the configuration file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::limit::FailMode;
use crate::telemetry::TelemetrySettings;

/// Everything a gateway needs to start.
#[derive(Clone)]
pub struct GatewayConfig {
    /// Where proxied traffic arrives.
    pub listen: SocketAddr,
    /// Where `/healthz`, `/readyz`, `/config` and `/metrics` answer; keep it private.
    pub admin_listen: SocketAddr,
    /// Where the last good snapshot is kept.
    pub data_dir: PathBuf,
    /// A snapshot file to enforce, reloaded when it changes (a standalone gateway).
    pub snapshot: Option<PathBuf>,
    /// How often the snapshot file is checked for changes.
    pub reload_interval: Duration,
    /// The hub to follow (`https://hub.example.com`): its snapshot stream replaces `snapshot`.
    pub hub_url: Option<String>,
    /// The gateway token the hub issued, sent as a bearer token. Secret: never printed.
    pub hub_token: Option<String>,
    /// Time between status reports to the hub when nothing else happens.
    pub status_interval: Duration,
    /// Time between usage reports to the hub: the period requests are summed over.
    pub usage_interval: Duration,
    /// The first wait before reconnecting to the hub; it doubles with each failure.
    pub reconnect_min: Duration,
    /// The longest wait before reconnecting to the hub.
    pub reconnect_max: Duration,
    /// `redis://…` to share rate-limit counters between replicas; absent keeps them in memory.
    pub rate_limit_store: Option<String>,
    /// What to do when the shared rate-limit store does not answer.
    pub rate_limit_fail: FailMode,
    /// Longest wait for the shared rate-limit store, per request.
    pub rate_limit_timeout: Duration,
    pub telemetry: TelemetrySettings,
    /// Proxy worker threads, each with its own runtime and listener (`workers`): one per core.
    pub workers: usize,
    /// Where proxied traffic arrives over TLS (`tls`); absent for no TLS listener.
    pub tls_listen: Option<SocketAddr>,
    /// A directory of `NAME.crt`/`NAME.key` PEM pairs for the TLS listener, reloaded when they
    /// change (a standalone gateway; the hub's certificates come in the snapshot).
    pub tls_cert_dir: Option<PathBuf>,
}

/// Default proxy address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";
/// Default admin address.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8001";

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            admin_listen: DEFAULT_ADMIN_LISTEN.parse().expect("valid default address"),
            data_dir: PathBuf::from("data"),
            snapshot: None,
            reload_interval: Duration::from_secs(1),
            hub_url: None,
            hub_token: None,
            status_interval: Duration::from_secs(10),
            usage_interval: crate::source::hub::DEFAULT_USAGE_INTERVAL,
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            rate_limit_store: None,
            rate_limit_fail: FailMode::Open,
            rate_limit_timeout: Duration::from_millis(50),
            telemetry: TelemetrySettings::default(),
            workers: crate::workers::default_count(),
            tls_listen: None,
            tls_cert_dir: None,
        }
    }
}

// Written by hand so that a password in the Redis URL and the hub token never reach a log line.
impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |url: &str| match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &url[..scheme + 3], &url[at..]),
            _ => url.to_owned(),
        };
        let store = self.rate_limit_store.as_deref().map(redact);
        f.debug_struct("GatewayConfig")
            .field("listen", &self.listen)
            .field("admin_listen", &self.admin_listen)
            .field("data_dir", &self.data_dir)
            .field("snapshot", &self.snapshot)
            .field("reload_interval", &self.reload_interval)
            .field("hub_url", &self.hub_url.as_deref().map(redact))
            .field("hub_token", &self.hub_token.as_ref().map(|_| "***"))
            .field("status_interval", &self.status_interval)
            .field("usage_interval", &self.usage_interval)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("rate_limit_store", &store)
            .field("rate_limit_fail", &self.rate_limit_fail)
            .field("rate_limit_timeout", &self.rate_limit_timeout)
            .field("telemetry", &self.telemetry)
            .field("workers", &self.workers)
            .field("tls_listen", &self.tls_listen)
            .field("tls_cert_dir", &self.tls_cert_dir)
            .finish()
    }
}
