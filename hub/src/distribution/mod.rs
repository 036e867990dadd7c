//! Distribution: getting each published revision to every connected gateway within a second.
//!
//! Every hub replica watches the revisions table (one indexed row, every 250 ms) and wakes the
//! gateway streams it serves when the latest number moves, so a revision published on one
//! replica reaches gateways connected to another through the shared database alone. A publish
//! on this replica wakes them at once. The same feed wakes the poster of change annotations
//! to Grafana (`annotations`).

pub mod annotations;
pub mod local;
pub mod stream;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::domain::publish::Published;
use crate::store::Store;

/// How often each replica looks for revisions published elsewhere.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// The latest revision number this replica knows of, for streams to wait on.
#[derive(Clone, Debug)]
pub struct RevisionFeed {
    latest: Arc<watch::Sender<i64>>,
    /// Set when the hub shuts down, so open streams end and graceful shutdown can finish.
    closing: Arc<watch::Sender<bool>>,
}

impl Default for RevisionFeed {
    fn default() -> Self {
        RevisionFeed {
            latest: Arc::new(watch::channel(0).0),
            closing: Arc::new(watch::channel(false).0),
        }
    }
}

impl RevisionFeed {
    /// Tells the streams of a revision published here.
    pub fn notify(&self, published: &Published) {
        self.advance(published.revision.number);
    }

    /// Moves the latest number forward (never back: a rollback is a new, higher number).
    pub fn advance(&self, number: i64) {
        self.latest.send_if_modified(|latest| {
            let moved = number > *latest;
            if moved {
                *latest = number;
            }
            moved
        });
    }

    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }

    /// Ends every open stream (at shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once the feed is closed.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Watches the store for revisions published by other replicas, until the feed has no
    /// other owner left.
    pub fn watch_store(&self, store: Store) -> tokio::task::JoinHandle<()> {
        let feed = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(POLL_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if Arc::strong_count(&feed.latest) == 1 {
                    return;
                }
                match latest_number(&store).await {
                    Ok(Some(number)) => feed.advance(number),
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "cannot read the latest revision"),
                }
            }
        })
    }
}

async fn latest_number(store: &Store) -> Result<Option<i64>, crate::store::StoreError> {
    let mut tx = store.begin().await?;
    let latest = tx
        .list_revisions(None, 1)
        .await?
        .into_iter()
        .next()
        .map(|revision| revision.number);
    tx.commit().await?;
    Ok(latest)
}
