//! The hub's configuration: one typed struct, filled by the binary from flags, `GATEHOUSE_*`
//! environment variables and an optional file, in that order of precedence.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::distribution::annotations::Grafana;
use crate::domain::usage::UsageSettings;

/// Everything the hub role needs to start.
#[derive(Clone)]
pub struct HubConfig {
    /// Where the admin API listens.
    pub listen: SocketAddr,
    /// Where the embedded database and other local state live.
    pub data_dir: PathBuf,
    /// `postgres://…` for Postgres; absent for embedded SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// The first admin's password; generated and printed once when absent.
    pub admin_password: Option<String>,
    /// Largest request body the admin API accepts, in bytes.
    pub max_body_bytes: usize,
    /// Publish after every successful change (the default of `up`); otherwise changes wait for
    /// an explicit publish.
    pub auto_publish: bool,
    /// How long the gateways' usage summaries are kept.
    pub usage_retention: Duration,
    /// How long usage is kept by the minute; older minutes are merged into hours.
    pub usage_rollup_after: Duration,
    /// Grafana's root URL, to post each revision to as an annotation (with `grafana_token`).
    pub grafana_url: Option<String>,
    /// A Grafana service-account token allowed to create annotations. Secret.
    pub grafana_token: Option<String>,
}

/// Default admin API address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default request body limit: 4 MiB, room for a large OpenAPI document.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            data_dir: PathBuf::from("data"),
            database_url: None,
            admin_password: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            auto_publish: false,
            usage_retention: UsageSettings::default().retention,
            usage_rollup_after: UsageSettings::default().rollup_after,
            grafana_url: None,
            grafana_token: None,
        }
    }
}

impl HubConfig {
    /// The database URL in use: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| crate::store::Store::sqlite_url_in(&self.data_dir))
    }

    /// Where change annotations go: Grafana, when both its URL and token are set.
    pub fn grafana(&self) -> Option<Grafana> {
        let url = self.grafana_url.as_deref().filter(|url| !url.is_empty())?;
        let token = self.grafana_token.as_deref().filter(|token| !token.is_empty())?;
        Some(Grafana::new(url, token))
    }

    /// What `domain::usage::maintain` keeps.
    pub fn usage_settings(&self) -> UsageSettings {
        UsageSettings {
            rollup_after: self.usage_rollup_after,
            retention: self.usage_retention,
        }
    }
}

// Written by hand so that secrets never reach a log line.
impl std::fmt::Debug for HubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(crate::store::redact_url),
            )
            .field("admin_password", &self.admin_password.as_ref().map(|_| "***"))
            .field("max_body_bytes", &self.max_body_bytes)
            .field("auto_publish", &self.auto_publish)
            .field("usage_retention", &self.usage_retention)
            .field("usage_rollup_after", &self.usage_rollup_after)
            .field(
                "grafana_url",
                &self.grafana_url.as_deref().map(crate::store::redact_url),
            )
            .field("grafana_token", &self.grafana_token.as_ref().map(|_| "***"))
            .finish()
    }
}
