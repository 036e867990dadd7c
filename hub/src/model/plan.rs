//! A plan: a rate limit (requests per window) and an optional quota (requests per day or month).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Kind, RuleMode};
use crate::validate::{Checker, FieldError, MAX_TEXT_LEN};

/// How much a consumer may call, under an access policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Unique, immutable name (a slug).
    #[schema(example = "gold")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub rate_limit: RateLimit,
    #[serde(default)]
    pub quota: Option<Quota>,
    /// `shadow`: counted and evaluated at the gateways, never refusing; would-be 429s are
    /// recorded (see `docs/SNAPSHOT.md`, Shadow mode).
    #[serde(default, skip_serializing_if = "RuleMode::is_enforce")]
    pub mode: RuleMode,
}

/// At most `requests` in any window of `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    #[schema(minimum = 1, example = 100)]
    pub requests: u64,
    #[schema(minimum = 1, maximum = 86400, example = 60)]
    pub window_seconds: u64,
}

/// At most `requests` per calendar `period` (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    #[schema(minimum = 1, example = 100000)]
    pub requests: u64,
    pub period: QuotaPeriod,
}

/// The period a quota counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuotaPeriod {
    Day,
    Month,
}

/// Longest rate-limit window: a day.
pub const MAX_WINDOW_SECONDS: u64 = 86_400;
/// Largest count a limit or quota may name; keeps counters far from overflow.
pub const MAX_REQUESTS: u64 = 1_000_000_000_000;

impl Kind for Plan {
    const KIND: &'static str = "plan";
    const LABEL: &'static str = "plan";
    type Input = Plan;
    type View = Plan;

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(plan: Plan, _previous: Option<&Plan>) -> Result<Plan, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &plan.name);
        checker.text("description", &plan.description, MAX_TEXT_LEN);
        let requests_ok = |requests: u64| (1..=MAX_REQUESTS).contains(&requests);
        let bound = format!("must be 1 to {MAX_REQUESTS}");
        checker.ensure(requests_ok(plan.rate_limit.requests), "rate_limit.requests", &bound);
        checker.ensure(
            (1..=MAX_WINDOW_SECONDS).contains(&plan.rate_limit.window_seconds),
            "rate_limit.window_seconds",
            format!("must be 1 to {MAX_WINDOW_SECONDS}"),
        );
        if let Some(quota) = &plan.quota {
            checker.ensure(requests_ok(quota.requests), "quota.requests", &bound);
        }
        checker.finish().map(|()| plan)
    }

    fn view(&self) -> Plan {
        self.clone()
    }

    fn search_text(&self) -> String {
        self.description.clone()
    }
}
