//! Plans whose rate limit, quota or counting changed, each with the APIs, groups and users it
//! governs on both sides of the change (who moves to another plan is an access item).

use std::collections::BTreeSet;

use gateway::snapshot::{LimitBy, PlanSpec, QuotaPeriodSpec, QuotaSpec, RateLimitSpec};

use super::access::{Holders, Side};
use super::{Affects, Item, ItemKind, Severity, thousands};

/// An item for each changed limit of each plan in both snapshots.
pub(super) fn items(before: &Side, after: &Side, holders: &Holders) -> Vec<Item> {
    let mut items = Vec::new();
    for was in &before.snapshot.plans {
        let Some(is) = after.plan(&was.name) else {
            continue;
        };
        let name = &was.name;
        let mut changes = Vec::new();
        if was.rate_limit != is.rate_limit {
            let (severity, ratio) = compare(rate_per_second(was.rate_limit), rate_per_second(is.rate_limit));
            changes.push((
                severity,
                ItemKind::PlanRateLimit,
                format!(
                    "plan `{name}`: rate limit {} → {}{ratio}",
                    rate(was.rate_limit),
                    rate(is.rate_limit)
                ),
            ));
        }
        if was.quota != is.quota {
            let (severity, ratio) = compare(quota_per_day(was.quota), quota_per_day(is.quota));
            let same_period = was.quota.zip(is.quota).is_some_and(|(was, is)| was.period == is.period);
            let ratio = if same_period { ratio } else { String::new() };
            changes.push((
                severity,
                ItemKind::PlanQuota,
                format!("plan `{name}`: quota {} → {}{ratio}", quota(was.quota), quota(is.quota)),
            ));
        }
        if was.limit_by != is.limit_by {
            changes.push((
                Severity::Info,
                ItemKind::PlanLimitBy,
                format!(
                    "plan `{name}`: limits counted {} → {}",
                    limit_by(was.limit_by),
                    limit_by(is.limit_by)
                ),
            ));
        }
        if changes.is_empty() {
            continue;
        }
        let governed = |holder: &super::access::Holder| holder.diffs.values().any(|diff| diff.kept.contains(name));
        let groups = holders.groups_where(governed);
        let users = holders.users_where(governed);
        let apis: BTreeSet<String> = holders
            .groups
            .values()
            .flat_map(|holder| holder.diffs.iter())
            .filter(|(_, diff)| diff.kept.contains(name))
            .map(|(key, _)| key.0.clone())
            .collect();
        let apis: Vec<String> = apis.into_iter().collect();
        for (severity, kind, message) in changes {
            // A plan no grant keeps on both sides changes no one's limits.
            let (severity, message) = if groups.is_empty() {
                (Severity::Info, format!("{message} — governs no one"))
            } else {
                let affects = Affects {
                    apis: Some(&apis),
                    groups: Some(&groups),
                    users: users.as_deref(),
                    applications: None,
                };
                (severity, format!("{message}{}", affects.suffix()))
            };
            items.push(Item {
                severity,
                kind,
                message,
                apis: apis.clone(),
                groups: groups.clone(),
                users: users.clone(),
                applications: None,
            });
        }
    }
    items
}

/// A move from one plan to another: whether limits go down or up, and how.
pub(super) fn moved(was: &PlanSpec, is: &PlanSpec) -> (Severity, String) {
    let (rate_severity, rate_ratio) = compare(rate_per_second(was.rate_limit), rate_per_second(is.rate_limit));
    let (quota_severity, _) = compare(quota_per_day(was.quota), quota_per_day(is.quota));
    let mut details = Vec::new();
    if was.rate_limit != is.rate_limit {
        details.push(format!(
            "rate limit {} → {}{rate_ratio}",
            rate(was.rate_limit),
            rate(is.rate_limit)
        ));
    }
    if was.quota != is.quota {
        details.push(format!("quota {} → {}", quota(was.quota), quota(is.quota)));
    }
    let severities = [rate_severity, quota_severity];
    let severity = if severities.contains(&Severity::LimitLowered) {
        Severity::LimitLowered
    } else if severities.contains(&Severity::LimitRaised) {
        Severity::LimitRaised
    } else {
        Severity::Info
    };
    (severity, details.join("; "))
}

/// Lowered, raised or the same, with ` (100× lower)`; `None` is no limit.
fn compare(was: Option<f64>, is: Option<f64>) -> (Severity, String) {
    match (was, is) {
        (None, None) => (Severity::Info, String::new()),
        (None, Some(_)) => (Severity::LimitLowered, String::new()),
        (Some(_), None) => (Severity::LimitRaised, String::new()),
        (Some(was), Some(is)) if is < was => (Severity::LimitLowered, format!(" ({}× lower)", ratio(was / is))),
        (Some(was), Some(is)) if is > was => (Severity::LimitRaised, format!(" ({}× higher)", ratio(is / was))),
        _ => (Severity::Info, " (the same rate)".to_owned()),
    }
}

/// `100`, `2.5`.
fn ratio(ratio: f64) -> String {
    if (ratio - ratio.round()).abs() < 0.05 {
        thousands(ratio.round() as u64)
    } else {
        format!("{ratio:.1}")
    }
}

fn rate_per_second(rate: Option<RateLimitSpec>) -> Option<f64> {
    rate.map(|rate| rate.requests as f64 / rate.window_seconds.max(1) as f64)
}

/// A month counts as 30 days, to say which of a daily and a monthly quota is lower.
fn quota_per_day(quota: Option<QuotaSpec>) -> Option<f64> {
    quota.map(|quota| match quota.period {
        QuotaPeriodSpec::Day => quota.requests as f64,
        QuotaPeriodSpec::Month => quota.requests as f64 / 30.0,
    })
}

/// `2,000/65 s`, or `none`.
fn rate(rate: Option<RateLimitSpec>) -> String {
    match rate {
        Some(rate) => format!("{}/{} s", thousands(rate.requests), thousands(rate.window_seconds)),
        None => "none".to_owned(),
    }
}

/// `10,000/day`, or `none`.
fn quota(quota: Option<QuotaSpec>) -> String {
    match quota {
        Some(QuotaSpec {
            requests,
            period: QuotaPeriodSpec::Day,
        }) => format!("{}/day", thousands(requests)),
        Some(QuotaSpec {
            requests,
            period: QuotaPeriodSpec::Month,
        }) => format!("{}/month", thousands(requests)),
        None => "none".to_owned(),
    }
}

fn limit_by(limit_by: LimitBy) -> &'static str {
    match limit_by {
        LimitBy::Consumer => "per user",
        LimitBy::Application => "per application",
    }
}
