//! Shadow mode in the hub: the would-be refusals gateways report with their usage
//! ([`rows`], stored by `usage::ingest`), and who each shadowed access policy or plan would have
//! refused lately ([`recent`]), for the rule's dashboard page, the revisions page and the impact
//! report of the change that enforces it ([`sentence`] words it the same everywhere).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::HubError;
use crate::store::{ShadowRefusalRow, Store};
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN};

/// How far back "who it would have refused" looks: the last hour.
pub const RECENT_MINUTES: i64 = 60;
/// Would-be refusal counts one report may hold.
pub const MAX_SHADOW_REFUSALS_PER_REPORT: usize = 10_000;

/// The requests of one minute that one shadowed access policy or plan would have refused to one user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowRefusalSummary {
    /// The start of the minute counted (seconds zero).
    pub minute: DateTime<Utc>,
    /// `policy` or `plan`.
    #[schema(example = "plan")]
    pub rule_kind: String,
    /// The access policy's or plan's name.
    pub rule: String,
    /// The user refused; absent for a caller without one.
    #[serde(default)]
    pub user: Option<String>,
    /// Would-be refusals counted.
    pub requests: u64,
}

/// Who one shadowed rule would have refused, and how often, most first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WouldHaveRefused {
    /// `policy` or `plan`.
    pub rule_kind: String,
    pub rule: String,
    pub users: Vec<RefusedUser>,
}

/// One user's would-be refusals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefusedUser {
    /// `null` for a caller without a user.
    pub user: Option<String>,
    pub requests: u64,
}

/// A rule's identity in [`recent`]: its kind (`policy`, `plan`) and name.
pub type RuleKey = (String, String);

/// Checks a report's would-be refusals and turns them into rows for `gateway`; a refused report
/// names each field at fault (`shadow_refusals[2].rule_kind`).
pub fn rows(
    gateway: &str,
    summaries: &[ShadowRefusalSummary],
    now: DateTime<Utc>,
) -> Result<Vec<ShadowRefusalRow>, Vec<FieldError>> {
    let mut checker = Checker::new();
    checker.ensure(
        summaries.len() <= MAX_SHADOW_REFUSALS_PER_REPORT,
        "shadow_refusals",
        format!("must hold at most {MAX_SHADOW_REFUSALS_PER_REPORT} counts"),
    );
    for (index, summary) in summaries.iter().enumerate().take(MAX_SHADOW_REFUSALS_PER_REPORT) {
        let field = format!("shadow_refusals[{index}]");
        let minute = summary.minute.timestamp();
        checker.ensure(
            minute.rem_euclid(60) == 0 && summary.minute.timestamp_subsec_nanos() == 0,
            format!("{field}.minute"),
            "must be the start of a minute (seconds zero)",
        );
        checker.ensure(
            minute <= now.timestamp() + super::usage::MAX_CLOCK_SKEW_SECONDS,
            format!("{field}.minute"),
            "must not be ahead of the hub's clock",
        );
        checker.ensure(
            matches!(summary.rule_kind.as_str(), "policy" | "plan"),
            format!("{field}.rule_kind"),
            "must be `policy` or `plan`",
        );
        checker.ensure(!summary.rule.is_empty(), format!("{field}.rule"), "must not be empty");
        checker.text(&format!("{field}.rule"), &summary.rule, MAX_SHORT_TEXT_LEN);
        if let Some(user) = &summary.user {
            checker.text(&format!("{field}.user"), user, MAX_SHORT_TEXT_LEN);
        }
        checker.ensure(
            i64::try_from(summary.requests).is_ok(),
            format!("{field}.requests"),
            "is too large",
        );
    }
    checker.finish()?;
    Ok(summaries
        .iter()
        .filter(|summary| summary.requests > 0)
        .map(|summary| ShadowRefusalRow {
            bucket_start: summary.minute.timestamp(),
            gateway: gateway.to_owned(),
            rule_kind: summary.rule_kind.clone(),
            rule: summary.rule.clone(),
            user_name: summary.user.clone(),
            requests: summary.requests as i64,
        })
        .collect())
}

/// Who each shadowed rule would have refused in the [`RECENT_MINUTES`] before `now`, by rule.
pub async fn recent(store: &Store, now: DateTime<Utc>) -> Result<BTreeMap<RuleKey, Vec<RefusedUser>>, HubError> {
    let since = (now - Duration::minutes(RECENT_MINUTES)).timestamp();
    let mut tx = store.begin().await?;
    let totals = tx.shadow_refusals_since(since).await?;
    tx.commit().await?;
    let mut by_rule: BTreeMap<RuleKey, Vec<RefusedUser>> = BTreeMap::new();
    for (rule_kind, rule, user, requests) in totals {
        by_rule.entry((rule_kind, rule)).or_default().push(RefusedUser {
            user,
            requests: requests.max(0) as u64,
        });
    }
    Ok(by_rule)
}

/// The same, for one rule.
pub async fn recent_for(
    store: &Store,
    rule_kind: &str,
    rule: &str,
    now: DateTime<Utc>,
) -> Result<Vec<RefusedUser>, HubError> {
    let mut all = recent(store, now).await?;
    Ok(all.remove(&(rule_kind.to_owned(), rule.to_owned())).unwrap_or_default())
}

/// Every shadowed rule's recent would-be refusals, as the admin API lists them.
pub async fn recent_list(store: &Store, now: DateTime<Utc>) -> Result<Vec<WouldHaveRefused>, HubError> {
    Ok(recent(store, now)
        .await?
        .into_iter()
        .map(|((rule_kind, rule), users)| WouldHaveRefused { rule_kind, rule, users })
        .collect())
}

/// `would have refused alice 15 times, bob once in the last hour`, or `would have refused no
/// one in the last hour`.
pub fn sentence(users: &[RefusedUser]) -> String {
    if users.is_empty() {
        return "would have refused no one in the last hour".to_owned();
    }
    let parts: Vec<String> = users
        .iter()
        .map(|refused| {
            let who = refused.user.as_deref().unwrap_or("callers without a user");
            match refused.requests {
                1 => format!("{who} once"),
                n => format!("{who} {} times", crate::web::thousands(n)),
            }
        })
        .collect();
    format!("would have refused {} in the last hour", parts.join(", "))
}

#[cfg(test)]
mod tests;
