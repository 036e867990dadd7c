//! The gateway in the hub's own process (`gatehouse up`): it follows the revision feed
//! directly, with no stream and no token, and reports its status like any other gateway, as
//! the gateway `local`; its usage goes straight into the store ([`UsageToStore`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gateway::runtime::Runtime;
use gateway::snapshot::Snapshot;
use gateway::source::hub::{Undelivered, UsageReport, UsageSink};
use gateway::telemetry::listener_certificates;

use super::RevisionFeed;
use crate::domain::fleet::{self, ApplyFailure, ReportedCertificate, StatusReport};
use crate::domain::{objects, publish, usage};
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::Gateway;
use crate::store::Store;

/// The name the in-process gateway has in the fleet.
pub const LOCAL_GATEWAY: &str = "local";

/// Applies every revision published (now, and as they come) to the in-process gateway's
/// `runtime`, until the feed closes, and reports each outcome.
pub async fn follow(store: Store, feed: RevisionFeed, runtime: Arc<Runtime>) {
    if let Err(error) = register(&store).await {
        tracing::warn!(%error, "cannot register the local gateway");
    }
    let started_at = Utc::now();
    let mut latest = feed.subscribe();
    let closed = feed.closed();
    tokio::pin!(closed);
    let mut applied: Option<u64> = None;
    let mut last_error: Option<ApplyFailure> = None;
    loop {
        match publish::latest_document(&store).await {
            Ok(Some((number, document)))
                if Some(number as u64) != applied
                    && last_error.as_ref().is_none_or(|error| error.revision != number as u64) =>
            {
                match Snapshot::parse(document.as_bytes())
                    .map_err(|error| error.to_string())
                    .and_then(|snapshot| runtime.apply(snapshot).map(|_| ()).map_err(|error| error.to_string()))
                {
                    Ok(()) => {
                        applied = Some(number as u64);
                        last_error = None;
                    }
                    Err(message) => {
                        last_error = Some(ApplyFailure {
                            revision: number as u64,
                            message,
                        })
                    }
                }
                let report = StatusReport {
                    instance: format!("in-process-{}", std::process::id()),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    started_at,
                    applied_revision: applied,
                    last_error: last_error.clone(),
                    requests: 0,
                    refusals: 0,
                    certificates: listener_certificates(&runtime)
                        .into_iter()
                        .map(|(name, info)| ReportedCertificate {
                            name,
                            hosts: info.dns_names,
                            not_after: DateTime::from_timestamp(info.not_after, 0).unwrap_or_default(),
                        })
                        .collect(),
                };
                if let Err(error) = fleet::report(&store, LOCAL_GATEWAY, report).await {
                    tracing::warn!(%error, "cannot record the local gateway's status");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot read the latest revision"),
        }
        tokio::select! {
            () = &mut closed => return,
            changed = latest.changed() => if changed.is_err() { return },
        }
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
