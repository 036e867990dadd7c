//! Plans: a quota smaller than what the rate limit allows in one window (`quota-below-rate`)
//! is used up before the rate limit ever applies, which is seldom what was meant.

use super::index::Index;
use super::{Finding, finding};
use crate::model::QuotaPeriod;

/// Finds `quota-below-rate`.
pub(super) fn check(index: &Index<'_>, findings: &mut Vec<Finding>) {
    for plan in &index.plans {
        let Some(spec) = &plan.spec else { continue };
        let Some(quota) = &spec.quota else { continue };
        let rate_limit = &spec.rate_limit;
        if quota.requests >= rate_limit.requests {
            continue;
        }
        let period = match quota.period {
            QuotaPeriod::Day => "day",
            QuotaPeriod::Month => "month",
        };
        findings.push(finding(
            "quota-below-rate",
            plan.document.locate("quota.requests"),
            format!(
                "plan `{}` allows {} requests per {} s but only {} per {period}: the quota runs out within one \
                 rate-limit window",
                plan.document.name, rate_limit.requests, rate_limit.window_seconds, quota.requests
            ),
        ));
    }
}
