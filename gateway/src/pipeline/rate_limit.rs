//! Step 4, rate-limit: count the request against the plan of the rule that granted it, per
//! consumer (user) or per application as the plan says. The algorithm and the stores are
//! `limit`'s; this step picks the key and turns the decision into headers or a refusal.

use http::HeaderMap;

use super::Caller;
use crate::limit;
use crate::refusal::Refusal;
use crate::runtime::{Loaded, Runtime};
use crate::snapshot::LimitBy;

/// Counts the request; returns the headers the response carries.
pub(super) async fn check(
    runtime: &Runtime,
    loaded: &Loaded,
    plan: usize,
    caller: &Caller,
) -> Result<HeaderMap, Refusal> {
    let limits = &loaded.plan_limits[plan];
    let mut headers = HeaderMap::new();
    if limits.is_unlimited() {
        return Ok(headers);
    }
    // `u:` and `a:` keep a user and an application of the same name apart.
    let key = match (loaded.compiled.plans[plan].limit_by, &caller.application_limit_key) {
        (LimitBy::Application, Some(application)) => application,
        _ => &caller.user_limit_key,
    };
    let decision = runtime.limiter.check(key, limits, caller.now).await;
    decision.write_headers(limits, &mut headers);
    match decision.refusal {
        None => Ok(headers),
        Some(limit::Refusal::Rate) => Err(Refusal::RateLimited {
            plan: limits.plan().to_owned(),
            headers,
        }),
        Some(limit::Refusal::Quota) => Err(Refusal::QuotaExceeded {
            plan: limits.plan().to_owned(),
            headers,
        }),
        Some(limit::Refusal::StoreUnavailable) => Err(Refusal::LimiterUnavailable),
    }
}
