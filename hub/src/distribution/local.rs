//! The gateway in the hub's own process (`gatehouse up`): it follows the revision feed
//! directly, with no stream and no token, and reports its status like any other gateway (the
//! gateway's own status board, a heartbeat in between), as the gateway `local`; its usage goes
//! straight into the store ([`UsageToStore`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use gateway::runtime::Runtime;
use gateway::snapshot::Snapshot;
use gateway::source::hub::{LastError, StatusBoard, Undelivered, UsageReport, UsageSink};

use super::RevisionFeed;
use crate::domain::fleet::{self, StatusReport};
use crate::domain::{objects, publish, usage};
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::Gateway;
use crate::store::Store;

/// The name the in-process gateway has in the fleet.
pub const LOCAL_GATEWAY: &str = "local";

/// How often the in-process gateway reports while nothing is published: as often as a gateway
/// following a hub does by default, so that the fleet view keeps it online.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// Applies every revision published (now, and as they come) to the in-process gateway's
/// `runtime`, until the feed closes; reports its status after each and every [`HEARTBEAT`].
pub async fn follow(store: Store, feed: RevisionFeed, runtime: Arc<Runtime>) {
    if let Err(error) = register(&store).await {
        tracing::warn!(%error, "cannot register the local gateway");
    }
    let board = StatusBoard::new(
        runtime.clone(),
        format!("in-process-{}", std::process::id()),
        SystemTime::now(),
    );
    let mut latest = feed.subscribe();
    let closed = feed.closed();
    tokio::pin!(closed);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The revision last applied or refused: neither is tried again.
    let mut tried: Option<u64> = None;
    let mut published = true;
    loop {
        if published {
            match publish::latest_document(&store).await {
                Ok(Some((number, document))) if Some(number as u64) != tried => {
                    let number = number as u64;
                    tried = Some(number);
                    let outcome = Snapshot::parse(document.as_bytes())
                        .map_err(|error| error.to_string())
                        .and_then(|snapshot| runtime.apply(snapshot).map(|_| ()).map_err(|error| error.to_string()));
                    board.record(outcome.err().map(|message| LastError {
                        revision: number,
                        message,
                    }));
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot read the latest revision"),
            }
        }
        report(&store, &board).await;
        tokio::select! {
            () = &mut closed => return,
            changed = latest.changed() => {
                if changed.is_err() {
                    return;
                }
                published = true;
            }
            _ = heartbeat.tick() => published = false,
        }
    }
}

/// Records the board's report as the gateway `local`'s. It goes through the same JSON a remote
/// gateway posts, so the in-process gateway reports exactly what one would.
async fn report(store: &Store, board: &StatusBoard) {
    let report = serde_json::to_value(board.report()).and_then(serde_json::from_value::<StatusReport>);
    let recorded = match report {
        Ok(report) => fleet::report(store, LOCAL_GATEWAY, report).await,
        Err(error) => {
            tracing::warn!(%error, "the local gateway's status does not read as a status report");
            return;
        }
    };
    if let Err(error) = recorded {
        tracing::warn!(%error, "cannot record the local gateway's status");
    }
}

/// Where the in-process gateway's usage reports go: [`usage::ingest`], as the gateway `local`.
/// `gateway::start::Started::report_usage_to` takes it.
#[derive(Clone)]
pub struct UsageToStore {
    store: Store,
}

impl UsageToStore {
    pub fn new(store: Store) -> UsageToStore {
        UsageToStore { store }
    }
}

impl UsageSink for UsageToStore {
    async fn deliver(&self, report: &UsageReport) -> Result<(), Undelivered> {
        let report = usage::UsageReport {
            instance: report.instance.clone(),
            summaries: report
                .summaries
                .iter()
                .map(|summary| usage::UsageSummary {
                    minute: summary.minute,
                    api: summary.api.clone(),
                    version: summary.version.clone(),
                    user: summary.user.clone(),
                    application: summary.application.clone(),
                    key: summary.key.clone(),
                    status_class: summary.status_class.to_owned(),
                    requests: summary.requests,
                    latency_ms_buckets: summary.latency_ms_buckets.to_vec(),
                })
                .collect(),
            shadow_refusals: report
                .shadow_refusals
                .iter()
                .map(|count| crate::domain::shadow::ShadowRefusalSummary {
                    minute: count.minute,
                    rule_kind: count.rule_kind.to_owned(),
                    rule: count.rule.clone(),
                    user: count.user.clone(),
                    requests: count.requests,
                })
                .collect(),
        };
        match usage::ingest(&self.store, LOCAL_GATEWAY, report, Utc::now()).await {
            Ok(()) => Ok(()),
            Err(error @ HubError::Invalid(_)) => Err(Undelivered::Refused(error.to_string())),
            Err(error) => Err(Undelivered::Later(error.to_string())),
        }
    }
}

async fn register(store: &Store) -> Result<(), HubError> {
    match objects::get::<Gateway>(store, LOCAL_GATEWAY).await {
        Ok(_) => Ok(()),
        Err(HubError::NotFound { .. }) => {
            let gateway = Gateway {
                name: LOCAL_GATEWAY.into(),
                description: "The gateway inside `gatehouse up`".into(),
                tags: vec![],
            };
            objects::create::<Gateway>(store, &Actor::system(), gateway)
                .await
                .map(|_| ())
        }
        Err(error) => Err(error),
    }
}
