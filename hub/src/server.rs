//! Starting the hub: open and migrate the store, make sure an admin exists, serve the API, keep
//! the usage summaries rolled up and within their retention, and post change annotations to
//! Grafana when it is configured.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::HubConfig;
use crate::distribution::annotations::Annotator;
use crate::domain::bootstrap::{self, Bootstrap};
use crate::error::HubError;
use crate::http::{AppState, app};
use crate::store::{Store, StoreError};

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot create the first admin: {0}")]
    Bootstrap(HubError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: String, source: std::io::Error },
}

/// Opens the store the configuration names (creating the data directory for SQLite) and
/// applies pending migrations.
pub async fn open_store(config: &HubConfig) -> Result<Store, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store = Store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    Ok(store)
}

/// Opens the store and creates the first admin if there is none.
pub async fn prepare(config: &HubConfig) -> Result<(Store, Bootstrap), StartError> {
    let store = open_store(config).await?;
    let bootstrap = bootstrap::ensure_admin(&store, config.admin_password.as_deref())
        .await
        .map_err(StartError::Bootstrap)?;
    Ok((store, bootstrap))
}

/// Binds the admin API's address.
pub async fn bind(config: &HubConfig) -> Result<TcpListener, StartError> {
    TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            address: config.listen.to_string(),
            source,
        })
}

/// How often the usage summaries are rolled up and trimmed (`domain::usage::maintain`).
pub const USAGE_MAINTENANCE_INTERVAL: Duration = Duration::from_secs(600);

/// Serves the admin API until `shutdown` completes; requests in flight finish first. Meanwhile,
/// every [`USAGE_MAINTENANCE_INTERVAL`] (the first at once), rolls up and trims the usage kept,
/// and, with a Grafana configured, posts each revision to it (`distribution::annotations`).
pub async fn serve(
    listener: TcpListener,
    store: Store,
    config: &HubConfig,
    revisions: crate::distribution::RevisionFeed,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let annotator = match config.grafana() {
        Some(grafana) => Some(
            Annotator::start(store.clone(), &revisions, grafana)
                .await
                .map_err(std::io::Error::other)?,
        ),
        None => None,
    };
    // Revisions published by other replicas reach this one's gateways through the store.
    let watcher = revisions.watch_store(store.clone());
    let maintenance = tokio::spawn(maintain_usage(store.clone(), config.usage_settings()));
    let state = AppState {
        store,
        max_body_bytes: config.max_body_bytes,
        revisions: revisions.clone(),
        auto_publish: config.auto_publish,
    };
    let shutdown = async move {
        shutdown.await;
        // Open gateway streams never end on their own: end them so shutdown can finish.
        revisions.close();
    };
    let served = axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await;
    watcher.abort();
    maintenance.abort();
    if let Some(annotator) = annotator {
        annotator.stop().await;
    }
    served
}

async fn maintain_usage(store: Store, settings: crate::domain::usage::UsageSettings) {
    let mut every = tokio::time::interval(USAGE_MAINTENANCE_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match crate::domain::usage::maintain(&store, chrono::Utc::now(), &settings).await {
            Ok(done) => tracing::debug!(?done, "usage summaries maintained"),
            Err(error) => tracing::warn!(%error, "could not roll up or trim the usage summaries"),
        }
    }
}
