//! The change-impact report: what a change from one snapshot to another does to access, said in
//! the words of the people it affects, per API, per group and per user. The engine
//! ([`impact`]) is pure: no I/O, no clock; [`from_store`] reads what a hub knows for it.
//!
//! Access is never worked out here: every group (and every user, by their groups) is asked of
//! the gateway's own rule for every API, version, method and operation, before and after
//! (`domain::access_views::access_in`, over `gateway::access::evaluate`), so the report cannot
//! disagree with what the gateways will enforce.
//!
//! - [`access`]: who gains or loses what, and who moves to another plan.
//! - [`addresses`]: grants whose access policy's IP lists change, and whom that narrows.
//! - [`lifecycle`]: APIs and versions added, deprecated, retired or removed; routes changed.
//! - [`plans`]: rate limits and quotas changed, and whom they govern.
//! - [`render`]: the report as text, JSON and Markdown for a pull-request comment.
//! - [`manifests`]: a manifest directory to the snapshot it would publish, or its problems.
//! - [`from_store`]: who a hub knows, and the impact of publishing now, read from its store.

mod access;
mod addresses;
pub mod from_store;
mod lifecycle;
pub mod manifests;
mod plans;
mod render;
mod shadow;

use std::collections::{BTreeMap, BTreeSet};

use gateway::compiled::CompileErrors;
use gateway::snapshot::Snapshot;
use serde::Serialize;

use crate::web::thousands;

pub use render::{render_json, render_markdown, render_text};

/// How far back the applications that called an API version are counted.
pub const CALLER_DAYS: u32 = 7;

/// An API version: the API's name and the version's (`None` for an API without versions).
pub type VersionKey = (String, Option<String>);

/// Who the people are, when a hub is there to say: without one, both are `None` and the report
/// speaks by group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct People {
    /// Each enabled user with their groups (groups → users is read from it).
    pub users: Option<BTreeMap<String, BTreeSet<String>>>,
    /// The applications (`owner/name`) that called each API version in the last [`CALLER_DAYS`].
    pub callers: Option<BTreeMap<VersionKey, BTreeSet<String>>>,
    /// Who each shadowed rule (`policy` or `plan`, name) would have refused in the last hour.
    pub shadow_refusals: Option<BTreeMap<crate::domain::shadow::RuleKey, Vec<crate::domain::shadow::RefusedUser>>>,
}

impl People {
    /// Adds a user with their groups; from then on users are known (even if none has a group).
    pub fn add_user<G: Into<String>>(&mut self, name: impl Into<String>, groups: impl IntoIterator<Item = G>) {
        self.users
            .get_or_insert_with(BTreeMap::new)
            .entry(name.into())
            .or_default()
            .extend(groups.into_iter().map(Into::into));
    }

    /// Adds the applications that called an API version; from then on callers are known.
    pub fn add_callers<A: Into<String>>(
        &mut self,
        api: impl Into<String>,
        version: Option<String>,
        applications: impl IntoIterator<Item = A>,
    ) {
        self.callers
            .get_or_insert_with(BTreeMap::new)
            .entry((api.into(), version))
            .or_default()
            .extend(applications.into_iter().map(Into::into));
    }

    /// Adds who a shadowed rule would have refused lately; from then on they are known.
    pub fn add_shadow_refusals(
        &mut self,
        rule_kind: impl Into<String>,
        rule: impl Into<String>,
        users: impl IntoIterator<Item = crate::domain::shadow::RefusedUser>,
    ) {
        self.shadow_refusals
            .get_or_insert_with(BTreeMap::new)
            .entry((rule_kind.into(), rule.into()))
            .or_default()
            .extend(users);
    }

    /// Marks would-be refusals as known without adding any: a hub with no shadowed rule at work.
    pub fn know_shadow_refusals(&mut self) {
        self.shadow_refusals.get_or_insert_with(BTreeMap::new);
    }

    /// Marks users as known without adding any: a hub with no users.
    pub fn know_users(&mut self) {
        self.users.get_or_insert_with(BTreeMap::new);
    }

    /// Marks callers as known without adding any: a hub with no recent usage.
    pub fn know_callers(&mut self) {
        self.callers.get_or_insert_with(BTreeMap::new);
    }
}

/// How an item changes what people can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// What worked stops working: an API or version removed or retired, a route or selector changed.
    BreakingRemoval,
    /// Someone may call less than before.
    Narrowing,
    /// Someone's rate limit or quota is lower.
    LimitLowered,
    /// Someone's rate limit or quota is higher.
    LimitRaised,
    /// Someone may call more than before.
    Widening,
    /// Worth knowing; changes no one's access.
    Info,
}

impl Severity {
    /// The word used in every rendering (`breaking-removal`, `limit-lowered`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::BreakingRemoval => "breaking-removal",
            Severity::Narrowing => "narrowing",
            Severity::LimitLowered => "limit-lowered",
            Severity::LimitRaised => "limit-raised",
            Severity::Widening => "widening",
            Severity::Info => "info",
        }
    }
}

/// The report as a whole, from its worst item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Something removed: calls that work now will fail.
    Breaking,
    /// Someone may call less, or less often.
    NarrowsAccess,
    /// Someone may call more, or more often; nothing narrows.
    WidensAccess,
    /// No one's access changes.
    Safe,
}

impl Verdict {
    /// The word used in every rendering (`breaking`, `narrows-access`, `widens-access`, `safe`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Breaking => "breaking",
            Verdict::NarrowsAccess => "narrows-access",
            Verdict::WidensAccess => "widens-access",
            Verdict::Safe => "safe",
        }
    }

    fn of(severities: impl IntoIterator<Item = Severity>) -> Verdict {
        severities
            .into_iter()
            .map(|severity| match severity {
                Severity::BreakingRemoval => Verdict::Breaking,
                Severity::Narrowing | Severity::LimitLowered => Verdict::NarrowsAccess,
                Severity::Widening | Severity::LimitRaised => Verdict::WidensAccess,
                Severity::Info => Verdict::Safe,
            })
            .min()
            .unwrap_or(Verdict::Safe)
    }
}

/// What an item is about, for tools reading the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    PlanRateLimit,
    PlanQuota,
    PlanLimitBy,
    AccessLost,
    AccessGained,
    PlanMoved,
    ApiAdded,
    ApiRemoved,
    VersionAdded,
    VersionRemoved,
    VersionDeprecated,
    VersionUndeprecated,
    VersionRetired,
    VersionRestored,
    RouteChanged,
    SelectorChanged,
    StripPrefixChanged,
    UpstreamChanged,
    /// A shadowed access policy or plan becomes enforced.
    ShadowEnforced,
    /// An access policy's grant of an API applies from other addresses (`ip_allow`, `ip_deny`).
    IpListsChanged,
}

/// One consequence of the change, with exactly whom it affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub severity: Severity,
    pub kind: ItemKind,
    /// The sentence a reviewer reads, names in backticks.
    pub message: String,
    pub apis: Vec<String>,
    pub groups: Vec<String>,
    /// `None` when users are not known (no hub).
    pub users: Option<Vec<String>>,
    /// The applications that called what this removes or changes, in the last [`CALLER_DAYS`];
    /// `None` when not known or not relevant.
    pub applications: Option<Vec<String>>,
}

/// What a change does to access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// Worst first, then by API and message.
    pub items: Vec<Item>,
    /// Every API, group and user some item affects, and no other.
    pub apis: Vec<String>,
    pub groups: Vec<String>,
    /// `None` when users are not known (no hub).
    pub users: Option<Vec<String>>,
}

impl Report {
    /// Whether the verdict is at least as bad as `threshold` (`Breaking` is worst).
    pub fn fails(&self, threshold: Verdict) -> bool {
        self.verdict <= threshold
    }
}

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
pub enum ImpactError {
    /// A snapshot the gateway's compiler refuses: no gateway would enforce it.
    #[error("the {side} snapshot does not compile: {errors}")]
    DoesNotCompile { side: &'static str, errors: CompileErrors },
}

/// What changing from `before` to `after` does to access, for `people`.
pub fn impact(before: &Snapshot, after: &Snapshot, people: &People) -> Result<Report, ImpactError> {
    let before = access::Side::compile(before, "before")?;
    let after = access::Side::compile(after, "after")?;
    let holders = access::Holders::compare(&before, &after, people);
    let mut items = Vec::new();
    items.extend(lifecycle::items(&before, &after, &holders, people));
    items.extend(plans::items(&before, &after, &holders));
    items.extend(access::items(&before, &after, &holders));
    items.extend(addresses::items(&before, &after, &holders));
    items.extend(shadow::items(&before, &after, people));
    items.sort_by(|left, right| {
        (left.severity, &left.apis, &left.message).cmp(&(right.severity, &right.apis, &right.message))
    });
    let union = |pick: &dyn Fn(&Item) -> Vec<String>| -> Vec<String> {
        let all: BTreeSet<String> = items.iter().flat_map(pick).collect();
        all.into_iter().collect()
    };
    let apis = union(&|item| item.apis.clone());
    let groups = union(&|item| item.groups.clone());
    let users = people
        .users
        .as_ref()
        .map(|_| union(&|item| item.users.clone().unwrap_or_default()));
    Ok(Report {
        verdict: Verdict::of(items.iter().map(|item| item.severity)),
        items,
        apis,
        groups,
        users,
    })
}

/// `API `x` v1`, or `API `x`` for an API without versions.
fn target(key: &VersionKey) -> String {
    match &key.1 {
        Some(version) => format!("API `{}` {version}", key.0),
        None => format!("API `{}`", key.0),
    }
}

/// `names` as `` `a`, `b` ``.
fn quoted<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `17 users`, `1 user`, `no user`.
fn count(n: usize, one: &str, many: &str) -> String {
    match n {
        0 => format!("no {one}"),
        1 => format!("1 {one}"),
        n => format!("{} {many}", thousands(n as u64)),
    }
}

/// The tail of a message, naming whom an item affects: `— 3 applications called it in the last
/// 7 days; affects APIs …; groups …; 17 users`. Parts that are `None` are left out (said in the
/// sentence already, or not known).
struct Affects<'a> {
    apis: Option<&'a [String]>,
    groups: Option<&'a [String]>,
    users: Option<&'a [String]>,
    applications: Option<&'a [String]>,
}

impl Affects<'_> {
    fn suffix(&self) -> String {
        let called = self.applications.map(|applications| match applications.len() {
            0 => format!("no application called it in the last {CALLER_DAYS} days"),
            1 => format!("1 application called it in the last {CALLER_DAYS} days"),
            n => format!(
                "{} applications called it in the last {CALLER_DAYS} days",
                thousands(n as u64)
            ),
        });
        let mut parts = Vec::new();
        if let Some(apis) = self.apis.filter(|apis| !apis.is_empty()) {
            let word = if apis.len() == 1 { "API" } else { "APIs" };
            parts.push(format!("{word} {}", quoted(apis)));
        }
        if let Some(groups) = self.groups.filter(|groups| !groups.is_empty()) {
            let word = if groups.len() == 1 { "group" } else { "groups" };
            parts.push(format!("{word} {}", quoted(groups)));
        }
        if let Some(users) = self.users {
            parts.push(count(users.len(), "user", "users"));
        }
        let affects = (!parts.is_empty()).then(|| format!("affects {}", parts.join("; ")));
        let clauses: Vec<String> = called.into_iter().chain(affects).collect();
        if clauses.is_empty() {
            String::new()
        } else {
            format!(" — {}", clauses.join("; "))
        }
    }
}

#[cfg(test)]
mod tests;
