//! Shadow mode: access policies and plans that are evaluated on every request but never refuse;
//! what they would have refused is recorded instead (`telemetry` counts it, the edge tells the
//! client in `Gatehouse-Shadow-Refusal`). This module owns the two rules and the record; the
//! access rule itself is `access::evaluate`, and the limits are `limit`'s.
//!
//! - A shadowed **plan** is counted and evaluated like any other (a request it would refuse is
//!   not counted, as when enforced), but the request goes on; the responses carry no
//!   `RateLimit` headers, so a client cannot tell the plan is there until it bites.
//! - A shadowed **access policy** is evaluated as if it were enforced: the API's enforced rules,
//!   without those of the policies it `replaces`, plus its own. When that refuses a request the
//!   enforced rules allow, the request is a would-be refusal under the shadowed policy. A
//!   shadowed policy that replaces nothing only adds grants, so it can never refuse more, and
//!   records nothing. Each shadowed policy is evaluated alone, against the enforced rules.
//!
//! Off (no shadowed rule in the snapshot) it costs a request a branch on a flag compiled with the
//! snapshot: `CompiledSnapshot::shadow` is `None`, and a plan's `shadow` is false.

use std::collections::HashSet;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};

use crate::access::{AccessRequest, Decision, Rule, evaluate};
use crate::limit::PlanLimits;
use crate::refusal::Refusal;

/// The response header naming each would-be refusal: `policy=partners-readonly;
/// rule=access_denied` or `plan=standard; rule=rate_limited`, comma-separated when both.
pub const SHADOW_REFUSAL: HeaderName = HeaderName::from_static("gatehouse-shadow-refusal");

/// The kind of rule a would-be refusal is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {
    Policy,
    Plan,
}

impl RuleKind {
    /// The word in the header, the metric's `gatehouse_rule_kind` and the usage report.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Policy => "policy",
            RuleKind::Plan => "plan",
        }
    }
}

/// What a shadowed rule would have refused: the rule and the refusal's own rule name
/// (`access_denied`, `rate_limited`, `quota_exceeded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowRefusal {
    pub kind: RuleKind,
    pub rule: Arc<str>,
    pub reason: &'static str,
}

/// The would-be refusals of one request: at most one shadowed policy's and one shadowed plan's.
#[derive(Debug, Default)]
pub struct ShadowRefusals {
    pub policy: Option<ShadowRefusal>,
    pub plan: Option<ShadowRefusal>,
}

impl ShadowRefusals {
    pub fn is_empty(&self) -> bool {
        self.policy.is_none() && self.plan.is_none()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ShadowRefusal> {
        self.policy.iter().chain(self.plan.iter())
    }

    /// `policy=partners-readonly; rule=access_denied, plan=standard; rule=rate_limited`: the
    /// header's value and the access log's `shadow_refusal`.
    pub fn text(&self) -> String {
        self.iter()
            .map(|refusal| format!("{}={}; rule={}", refusal.kind.as_str(), refusal.rule, refusal.reason))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The header value; names are slugs, so the text always is one.
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::try_from(self.text()).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
    }
}

/// A shadowed plan's verdict on a request: never a refusal. A limit's would-be refusal is
/// recorded in `shadow`; a shared store that does not answer lets the request through unrecorded
/// (nothing was refused). The `RateLimit` headers are dropped: see the module's documentation.
pub(crate) fn plan_verdict(
    limited: Result<http::HeaderMap, Refusal>,
    limits: &PlanLimits,
    shadow: &mut ShadowRefusals,
) -> Result<http::HeaderMap, Refusal> {
    let reason = match limited {
        Err(Refusal::RateLimited { .. }) => "rate_limited",
        Err(Refusal::QuotaExceeded { .. }) => "quota_exceeded",
        _ => return Ok(http::HeaderMap::new()),
    };
    shadow.plan = Some(ShadowRefusal {
        kind: RuleKind::Plan,
        rule: limits.plan_arc().clone(),
        reason,
    });
    Ok(http::HeaderMap::new())
}

/// The shadowed access policies of a snapshot, compiled per API.
#[derive(Debug, Default)]
pub struct ShadowAccess {
    /// Indexed like the snapshot's APIs: the shadowed policies that could refuse there.
    per_api: Vec<Box<[ShadowPolicy]>>,
    /// Every shadowed policy, for `/config` readers and the hub's views.
    policies: Vec<Arc<str>>,
}

/// One shadowed policy on one API: the rules as they would be if it were enforced.
#[derive(Debug)]
struct ShadowPolicy {
    policy: Arc<str>,
    rules: Box<[Rule]>,
}

/// A shadowed rule as `compiled` leaves it: the API it is for (index), the compiled rule, and the
/// policies its policy replaces.
pub(crate) struct ShadowRule<'a> {
    pub api: usize,
    pub rule: Rule,
    pub replaces: &'a [String],
}

impl ShadowAccess {
    /// Builds, for every API, the rule set each shadowed policy would leave it with; `None`
    /// when no shadowed policy could refuse anything (the off switch of the hot path).
    /// `enforced` is each API's enforced rules, in snapshot order.
    pub(crate) fn compile<'a>(enforced: &[&[Rule]], shadow_rules: Vec<ShadowRule<'a>>) -> Option<Box<ShadowAccess>> {
        if shadow_rules.is_empty() {
            return None;
        }
        let mut policies: Vec<(Arc<str>, HashSet<&'a str>)> = Vec::new();
        for shadow_rule in &shadow_rules {
            if !policies.iter().any(|(name, _)| *name == shadow_rule.rule.policy) {
                policies.push((
                    shadow_rule.rule.policy.clone(),
                    shadow_rule.replaces.iter().map(String::as_str).collect(),
                ));
            }
        }
        let mut per_api: Vec<Vec<ShadowPolicy>> = enforced.iter().map(|_| Vec::new()).collect();
        for (policy, replaces) in &policies {
            for (api, rules) in enforced.iter().enumerate() {
                // Only taking rules away can refuse more: where the policy replaces nothing, skip.
                if !rules.iter().any(|rule| replaces.contains(&*rule.policy)) {
                    continue;
                }
                let mut set: Vec<Rule> = rules
                    .iter()
                    .filter(|rule| !replaces.contains(&*rule.policy))
                    .cloned()
                    .collect();
                set.extend(
                    shadow_rules
                        .iter()
                        .filter(|shadow_rule| shadow_rule.api == api && shadow_rule.rule.policy == *policy)
                        .map(|shadow_rule| shadow_rule.rule.clone()),
                );
                per_api[api].push(ShadowPolicy {
                    policy: policy.clone(),
                    rules: set.into(),
                });
            }
        }
        Some(Box::new(ShadowAccess {
            per_api: per_api.into_iter().map(Vec::into_boxed_slice).collect(),
            policies: policies.into_iter().map(|(name, _)| name).collect(),
        }))
    }

    /// The first shadowed policy that would refuse a request to API `api` the enforced rules
    /// allowed, with the rule of the refusal it would give (`access_denied`, or
    /// `policy_ip_denied` when its IP lists refuse the client address); call it only for
    /// allowed requests, with the address they were allowed for.
    pub fn would_refuse(&self, api: usize, request: &AccessRequest<'_>) -> Option<(&Arc<str>, &'static str)> {
        self.per_api
            .get(api)?
            .iter()
            .find_map(|shadow| match evaluate(&shadow.rules, request) {
                Decision::Denied(denial) => Some((&shadow.policy, denial.refusal_rule())),
                Decision::Allowed { .. } => None,
            })
    }

    /// The shadowed policies' names, in snapshot order.
    pub fn policies(&self) -> &[Arc<str>] {
        &self.policies
    }
}

#[cfg(test)]
mod tests;
