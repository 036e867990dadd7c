//! One gateway's stream: the latest revision at once (unless the gateway already has it), then
//! each new one as it is published, until the gateway goes away or its token is revoked.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::Event;
use futures_util::Stream;
use tokio::sync::watch;

use crate::domain::{fleet, publish};
use crate::store::Store;

/// How often an open stream checks that its token still stands.
pub const TOKEN_RECHECK: Duration = Duration::from_secs(2);

struct Cursor {
    store: Store,
    token: String,
    gateway: String,
    /// The revision the gateway has (from `Last-Event-ID`) or was last sent.
    sent: i64,
    feed: watch::Receiver<i64>,
    closed: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    recheck: tokio::time::Interval,
}

/// The events of one gateway's stream.
pub fn events(
    store: Store,
    token: String,
    gateway: String,
    last_event_id: Option<i64>,
    feed: &super::RevisionFeed,
) -> impl Stream<Item = Result<Event, Infallible>> + use<> {
    let mut recheck = tokio::time::interval(TOKEN_RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let cursor = Cursor {
        store,
        token,
        gateway,
        sent: last_event_id.unwrap_or(0),
        feed: feed.subscribe(),
        closed: Box::pin(feed.closed()),
        recheck,
    };
    futures_util::stream::unfold(cursor, |mut cursor| async move {
        loop {
            match publish::latest_document(&cursor.store).await {
                Ok(Some((number, document))) if number != cursor.sent => {
                    cursor.sent = number;
                    tracing::info!(gateway = %cursor.gateway, revision = number, "revision sent");
                    let event = Event::default().event("snapshot").id(number.to_string()).data(document);
                    return Some((Ok(event), cursor));
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, gateway = %cursor.gateway, "cannot read the latest revision"),
            }
            tokio::select! {
                () = &mut cursor.closed => return None,
                changed = cursor.feed.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                _ = cursor.recheck.tick() => {
                    if fleet::authenticate(&cursor.store, &cursor.token).await.is_err() {
                        tracing::info!(gateway = %cursor.gateway, "token revoked; closing the stream");
                        return None;
                    }
                }
            }
        }
    })
}
