//! The fleet: gateway tokens, the status each gateway reports, and the view of every gateway
//! (online, stale or offline; on the latest revision or drifting; its last error).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::objects::{all_in, get_in, insert_in, not_found};
use crate::error::HubError;
use crate::identity::{Actor, secret};
use crate::model::certificate::{EXPIRY_WARNING_DAYS, days_until};
use crate::model::{Gateway, GatewayToken, Kind, Record};
use crate::store::{StatusRow, Store};
use crate::validate::{Checker, MAX_SHORT_TEXT_LEN, MAX_TEXT_LEN};

/// The secret's marker: `ghgw_…` is a gateway token.
pub const TOKEN_MARKER: &str = "ghgw";
/// A gateway silent for longer than this is stale.
pub const STALE_AFTER_SECONDS: i64 = 30;
/// A gateway silent for longer than this is offline.
pub const OFFLINE_AFTER_SECONDS: i64 = 120;

/// A newly issued gateway token, with its secret shown this once.
#[derive(Debug)]
pub struct IssuedGatewayToken {
    pub record: Record<GatewayToken>,
    pub secret: String,
}

/// Issues a token for a gateway.
pub async fn issue_token(
    store: &Store,
    actor: &Actor,
    gateway: &str,
    name: String,
) -> Result<IssuedGatewayToken, HubError> {
    let generated = secret::generate(TOKEN_MARKER);
    let token = GatewayToken {
        id: secret::new_id("gwt"),
        gateway: gateway.to_owned(),
        name,
        prefix: generated.prefix,
        hash: generated.hash,
    };
    let token = GatewayToken::from_input(token, None).map_err(HubError::Invalid)?;
    let mut tx = store.begin().await?;
    if get_in::<Gateway>(&mut tx, gateway).await?.is_none() {
        return Err(not_found::<Gateway>(gateway));
    }
    let record = insert_in(&mut tx, actor, token).await?;
    tx.commit().await?;
    Ok(IssuedGatewayToken {
        record,
        secret: generated.value,
    })
}

/// The gateway a token belongs to.
pub async fn authenticate(store: &Store, token: &str) -> Result<String, HubError> {
    let refused = || HubError::Unauthenticated {
        detail: "the gateway token is unknown or revoked".into(),
    };
    let mut tx = store.begin().await?;
    let holder = tx
        .claim_holder("gateway_token_hash", &secret::hash(token))
        .await?
        .ok_or_else(refused)?;
    let record = get_in::<GatewayToken>(&mut tx, &holder.key)
        .await?
        .ok_or_else(refused)?;
    tx.commit().await?;
    Ok(record.object.gateway)
}

/// What a gateway reports about itself.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    /// Which process: host or address, and process id.
    pub instance: String,
    /// The gateway's software version.
    pub version: String,
    pub started_at: DateTime<Utc>,
    /// The revision it enforces; absent before the first.
    #[serde(default)]
    pub applied_revision: Option<u64>,
    /// The last revision it refused, and why.
    #[serde(default)]
    pub last_error: Option<ApplyFailure>,
    /// Requests served since it started.
    #[serde(default)]
    pub requests: u64,
    /// Requests refused since it started.
    #[serde(default)]
    pub refusals: u64,
    /// The certificates its TLS listener holds; none without one.
    #[serde(default)]
    pub certificates: Vec<ReportedCertificate>,
}

/// A certificate a gateway's TLS listener holds, as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedCertificate {
    /// The hub's certificate name, or the file stem in the gateway's `--tls-cert-dir`.
    pub name: String,
    /// The DNS names SNI picks it for.
    #[serde(default)]
    pub hosts: Vec<String>,
    pub not_after: DateTime<Utc>,
}

/// A reported certificate with the time it has left, as the fleet view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CertificateExpiry {
    pub name: String,
    pub hosts: Vec<String>,
    pub not_after: DateTime<Utc>,
    /// Whole days until `not_after`, negative once expired.
    pub days_left: i64,
    /// Past `not_after`.
    pub expired: bool,
    /// Under [`EXPIRY_WARNING_DAYS`] days left, or expired.
    pub expiring: bool,
}

/// A report lists at most this many certificates (a gateway holds one per host name it serves).
pub const MAX_REPORTED_CERTIFICATES: usize = 1_000;
/// A reported certificate lists at most this many host names.
pub const MAX_REPORTED_HOSTS: usize = 100;

/// A revision a gateway could not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyFailure {
    pub revision: u64,
    pub message: String,
}

/// Records a gateway's report.
pub async fn report(store: &Store, gateway: &str, report: StatusReport) -> Result<(), HubError> {
    let mut checker = Checker::new();
    checker.text("instance", &report.instance, MAX_SHORT_TEXT_LEN);
    checker.text("version", &report.version, MAX_SHORT_TEXT_LEN);
    if let Some(error) = &report.last_error {
        checker.text("last_error.message", &error.message, MAX_TEXT_LEN);
    }
    checker.ensure(
        report.certificates.len() <= MAX_REPORTED_CERTIFICATES,
        "certificates",
        format!("lists more than {MAX_REPORTED_CERTIFICATES} certificates"),
    );
    for (index, certificate) in report.certificates.iter().enumerate() {
        checker.text(
            &format!("certificates[{index}].name"),
            &certificate.name,
            MAX_SHORT_TEXT_LEN,
        );
        checker.ensure(
            certificate.hosts.len() <= MAX_REPORTED_HOSTS,
            format!("certificates[{index}].hosts"),
            format!("lists more than {MAX_REPORTED_HOSTS} host names"),
        );
        for (host_index, host) in certificate.hosts.iter().enumerate() {
            checker.text(
                &format!("certificates[{index}].hosts[{host_index}]"),
                host,
                MAX_SHORT_TEXT_LEN,
            );
        }
    }
    checker.finish().map_err(HubError::Invalid)?;
    let as_i64 = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    let row = StatusRow {
        gateway: gateway.to_owned(),
        instance: report.instance,
        version: report.version,
        started_at: report.started_at.timestamp_millis(),
        applied_revision: report.applied_revision.map(as_i64),
        last_error_revision: report.last_error.as_ref().map(|error| as_i64(error.revision)),
        last_error: report.last_error.map(|error| error.message),
        requests: as_i64(report.requests),
        refusals: as_i64(report.refusals),
        last_seen: Utc::now().timestamp_millis(),
        certificates: serde_json::to_string(&report.certificates).expect("certificates always serialise"),
    };
    let mut tx = store.begin().await?;
    tx.upsert_gateway_status(&row).await?;
    tx.commit().await?;
    Ok(())
}

/// How recently a gateway was heard from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Liveness {
    Online,
    Stale,
    Offline,
    /// Registered, never connected.
    NeverSeen,
}

/// One gateway as the fleet view shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GatewayStatus {
    pub name: String,
    pub liveness: Liveness,
    pub instance: Option<String>,
    pub version: Option<String>,
    pub applied_revision: Option<i64>,
    pub latest_revision: Option<i64>,
    /// Heard from, and not on the latest revision.
    pub drift: bool,
    pub last_error: Option<ApplyFailure>,
    pub last_seen: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub requests: Option<i64>,
    pub refusals: Option<i64>,
    /// The certificates its TLS listener holds, soonest to expire first.
    pub certificates: Vec<CertificateExpiry>,
}

impl GatewayStatus {
    /// The certificates under the warning threshold.
    pub fn expiring(&self) -> impl Iterator<Item = &CertificateExpiry> {
        self.certificates.iter().filter(|certificate| certificate.expiring)
    }

    /// How many of its certificates have at least [`EXPIRY_WARNING_DAYS`] days left.
    pub fn valid_for_long(&self) -> usize {
        self.certificates
            .iter()
            .filter(|certificate| !certificate.expiring)
            .count()
    }
}

/// The certificates of a stored report, soonest to expire first. A row the hub cannot read
/// (written by a newer hub, say) shows none rather than failing the whole fleet view.
fn expiries(stored: &str, now: DateTime<Utc>) -> Vec<CertificateExpiry> {
    let reported: Vec<ReportedCertificate> = serde_json::from_str(stored).unwrap_or_default();
    let mut expiries: Vec<CertificateExpiry> = reported
        .into_iter()
        .map(|certificate| {
            // An expired certificate has at most 0 days left, so it is expiring too.
            let days_left = days_until(certificate.not_after, now);
            CertificateExpiry {
                name: certificate.name,
                hosts: certificate.hosts,
                not_after: certificate.not_after,
                expired: certificate.not_after <= now,
                expiring: days_left < EXPIRY_WARNING_DAYS,
                days_left,
            }
        })
        .collect();
    expiries.sort_by(|a, b| a.not_after.cmp(&b.not_after).then_with(|| a.name.cmp(&b.name)));
    expiries
}

/// Every registered gateway with its last report.
pub async fn fleet(store: &Store, now: DateTime<Utc>) -> Result<Vec<GatewayStatus>, HubError> {
    let mut tx = store.begin().await?;
    let gateways = all_in::<Gateway>(&mut tx).await?;
    let statuses = tx.gateway_statuses().await?;
    let latest = tx
        .list_revisions(None, 1)
        .await?
        .into_iter()
        .next()
        .map(|revision| revision.number);
    tx.commit().await?;
    let time = |millis: i64| DateTime::from_timestamp_millis(millis);
    Ok(gateways
        .into_iter()
        .map(|gateway| {
            let status = statuses.iter().find(|status| status.gateway == gateway.name);
            let liveness = match status {
                None => Liveness::NeverSeen,
                Some(status) => match (now.timestamp_millis() - status.last_seen) / 1000 {
                    silence if silence <= STALE_AFTER_SECONDS => Liveness::Online,
                    silence if silence <= OFFLINE_AFTER_SECONDS => Liveness::Stale,
                    _ => Liveness::Offline,
                },
            };
            GatewayStatus {
                name: gateway.name,
                liveness,
                instance: status.map(|status| status.instance.clone()),
                version: status.map(|status| status.version.clone()),
                applied_revision: status.and_then(|status| status.applied_revision),
                latest_revision: latest,
                drift: status.is_some() && status.and_then(|status| status.applied_revision) != latest,
                last_error: status.and_then(|status| {
                    Some(ApplyFailure {
                        revision: status.last_error_revision? as u64,
                        message: status.last_error.clone()?,
                    })
                }),
                last_seen: status.and_then(|status| time(status.last_seen)),
                started_at: status.and_then(|status| time(status.started_at)),
                requests: status.map(|status| status.requests),
                refusals: status.map(|status| status.refusals),
                certificates: status.map_or_else(Vec::new, |status| expiries(&status.certificates, now)),
            }
        })
        .collect())
}
