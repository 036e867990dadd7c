//! The catalog: which APIs a user may see, asked of the gateway's own access rule over the
//! latest published revision, so the portal lists exactly what the gateway enforces. An API
//! not granted is neither listed nor found.

use std::sync::{Arc, Mutex};

use gateway::access::{self, AccessRequest, Decision, MethodSet};
use gateway::compiled::{CompiledApi, CompiledSnapshot};
use gateway::snapshot::{ApiSpec, PlanSpec, QuotaPeriodSpec, Snapshot, VersionStatus};
use hub::domain::{objects, publish, revisions};
use hub::model::{Api, ApiVersion, Role, User};
use hub::store::Store;

use crate::error::PortalError;

/// The latest published revision, parsed and compiled once per revision.
#[derive(Default)]
pub struct SnapshotCache {
    current: Mutex<Option<Arc<Published>>>,
}

/// One published revision, ready to answer access questions.
pub struct Published {
    pub revision: i64,
    pub snapshot: Snapshot,
    pub compiled: CompiledSnapshot,
}

impl SnapshotCache {
    /// The latest revision; `None` until something is published.
    pub async fn latest(&self, store: &Store) -> Result<Option<Arc<Published>>, PortalError> {
        let Some(latest) = revisions::list(store, None, 1).await?.items.into_iter().next() else {
            return Ok(None);
        };
        if let Some(cached) = self.cached().filter(|cached| cached.revision == latest.number) {
            return Ok(Some(cached));
        }
        let snapshot = publish::snapshot(store, latest.number).await?;
        let compiled = CompiledSnapshot::compile(&snapshot, None)
            .map_err(|error| PortalError::Internal(format!("revision {} does not compile: {error}", latest.number)))?;
        let published = Arc::new(Published {
            revision: latest.number,
            snapshot,
            compiled,
        });
        *self.current.lock().expect("cache lock") = Some(published.clone());
        Ok(Some(published))
    }

    fn cached(&self) -> Option<Arc<Published>> {
        self.current.lock().expect("cache lock").clone()
    }
}

/// What a user may see of one API.
pub struct Entry {
    pub api: Api,
    /// The versions the user may see, in the order the snapshot lists them.
    pub versions: Vec<VersionEntry>,
    /// The plan that applies to the user's calls, if a grant names one.
    pub plan: Option<PlanSpec>,
    /// Whether any of the user's groups holds a grant (an admin sees APIs without one).
    pub granted: bool,
}

/// A version the user may see.
pub struct VersionEntry {
    pub name: String,
    pub status: VersionStatus,
    /// Its index within the API, as access rules count versions.
    pub index: usize,
    pub granted: bool,
    /// Its lifecycle as published (what the gateway signals): Unix seconds, and the successor.
    pub deprecated_at: Option<i64>,
    pub sunset_at: Option<i64>,
    pub successor: Option<String>,
}

/// Why a catalog is empty, said to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmptyBecause {
    NothingPublished,
    NoGroups,
    NoGrants { groups: Vec<String> },
    NoMatch,
}

/// A user's view of the catalog.
pub struct Catalog {
    pub entries: Vec<Entry>,
    pub empty_because: Option<EmptyBecause>,
    /// An admin sees every API, granted or not.
    pub sees_everything: bool,
}

/// The APIs a user may see, filtered by a search over name, description and tags.
pub async fn for_user(store: &Store, cache: &SnapshotCache, user: &User, search: &str) -> Result<Catalog, PortalError> {
    let sees_everything = user.role == Role::Admin;
    let Some(published) = cache.latest(store).await? else {
        return Ok(Catalog {
            entries: Vec::new(),
            empty_because: Some(EmptyBecause::NothingPublished),
            sees_everything,
        });
    };
    let groups = published.compiled.group_ids(user.groups.iter().map(String::as_str));
    // The hub's objects hold what the snapshot leaves out (description, tags, owner): read
    // them all at once, not one query per API.
    let mut apis: std::collections::HashMap<String, Api> = objects::all::<Api>(store)
        .await?
        .into_iter()
        .map(|api| (api.name.clone(), api))
        .collect();
    let mut entries = Vec::new();
    for (spec, compiled) in published.snapshot.apis.iter().zip(&published.compiled.apis) {
        let Some(api) = apis.remove(&spec.name) else { continue };
        let Some(entry) = entry(&published, api, spec, compiled, &groups, sees_everything) else {
            continue;
        };
        if matches(&entry.api, search) {
            entries.push(entry);
        }
    }
    entries.sort_by(|left, right| left.api.name.cmp(&right.api.name));
    let empty_because = entries.is_empty().then(|| {
        if !search.trim().is_empty() {
            EmptyBecause::NoMatch
        } else if user.groups.is_empty() {
            EmptyBecause::NoGroups
        } else {
            EmptyBecause::NoGrants {
                groups: user.groups.clone(),
            }
        }
    });
    Ok(Catalog {
        entries,
        empty_because,
        sees_everything,
    })
}

/// One API as the user may see it; `NotFound` when they may not (whether or not it exists).
pub async fn api_for_user(
    store: &Store,
    cache: &SnapshotCache,
    user: &User,
    name: &str,
) -> Result<(Entry, Arc<Published>), PortalError> {
    let published = cache.latest(store).await?.ok_or(PortalError::NotFound)?;
    let groups = published.compiled.group_ids(user.groups.iter().map(String::as_str));
    let position = published
        .snapshot
        .apis
        .iter()
        .position(|api| api.name == name)
        .ok_or(PortalError::NotFound)?;
    let (spec, compiled) = (&published.snapshot.apis[position], &published.compiled.apis[position]);
    let api = objects::get::<Api>(store, &spec.name).await?.object;
    let entry = entry(&published, api, spec, compiled, &groups, user.role == Role::Admin);
    Ok((entry.ok_or(PortalError::NotFound)?, published))
}

fn entry(
    published: &Published,
    api: Api,
    spec: &ApiSpec,
    compiled: &CompiledApi,
    groups: &[access::GroupId],
    sees_everything: bool,
) -> Option<Entry> {
    let granted = access::granting(&compiled.rules, groups, None).next().is_some();
    if !granted && !sees_everything {
        return None;
    }
    let versions: Vec<VersionEntry> = spec
        .versions
        .iter()
        .enumerate()
        .filter(|(_, version)| version.status != VersionStatus::Retired)
        .map(|(index, version)| VersionEntry {
            name: version.name.clone(),
            status: version.status,
            index,
            granted: access::granting(&compiled.rules, groups, Some(index)).next().is_some(),
            deprecated_at: version.deprecated_at,
            sunset_at: version.sunset_at,
            successor: version.successor.clone(),
        })
        .filter(|version| version.granted || sees_everything)
        .collect();
    let plan = access::granting(&compiled.rules, groups, None)
        .next()
        .and_then(|rule| published.compiled.plans.get(rule.plan).cloned());
    Some(Entry {
        api,
        versions,
        plan,
        granted,
    })
}

fn matches(api: &Api, search: &str) -> bool {
    let search = search.trim().to_lowercase();
    search.is_empty()
        || api.name.to_lowercase().contains(&search)
        || api.description.to_lowercase().contains(&search)
        || api.tags.iter().any(|tag| tag.to_lowercase().contains(&search))
}

/// May these groups call this operation? The gateway's own rule answers.
pub fn operation_allowed(
    published: &Published,
    api: &str,
    user: &User,
    version: Option<usize>,
    method: &str,
    operation: Option<&str>,
) -> Decision {
    let Some(compiled) = published.compiled.apis.iter().find(|compiled| &*compiled.name == api) else {
        return Decision::Denied(access::Denial::NoGrant);
    };
    let groups = published.compiled.group_ids(user.groups.iter().map(String::as_str));
    let operation = operation.filter(|_| compiled.names_operations);
    access::evaluate(
        &compiled.rules,
        &AccessRequest {
            groups: &groups,
            version,
            method: MethodSet::bit(method),
            operation,
            // The portal cannot know where the developer's calls will come from.
            client: access::ClientAddress::Any,
        },
    )
}

/// The stored version object, for its OpenAPI document and description.
pub async fn version_object(store: &Store, api: &str, version: &str) -> Result<Option<ApiVersion>, PortalError> {
    match objects::get::<ApiVersion>(store, &ApiVersion::key_of(api, version)).await {
        Ok(record) => Ok(Some(record.object)),
        Err(hub::error::HubError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// "2,000 requests per 65 s, 100,000 per month".
pub fn describe_plan(plan: &PlanSpec) -> String {
    let mut parts = Vec::new();
    if let Some(rate) = &plan.rate_limit {
        parts.push(format!(
            "{} requests per {}",
            thousands(rate.requests),
            seconds(rate.window_seconds)
        ));
    }
    if let Some(quota) = &plan.quota {
        let period = match quota.period {
            QuotaPeriodSpec::Day => "day",
            QuotaPeriodSpec::Month => "month",
        };
        parts.push(format!("{} per {period}", thousands(quota.requests)));
    }
    if parts.is_empty() {
        "no limit".into()
    } else {
        parts.join(", ")
    }
}

fn seconds(window: u64) -> String {
    match window {
        60 => "minute".into(),
        3600 => "hour".into(),
        86_400 => "day".into(),
        1 => "second".into(),
        other => format!("{other} s"),
    }
}

pub use hub::web::thousands;

#[cfg(test)]
mod tests {
    use super::*;
    use gateway::snapshot::{QuotaSpec, RateLimitSpec};

    #[test]
    fn plans_read_as_a_sentence() {
        let plan = PlanSpec {
            name: "gold".into(),
            rate_limit: Some(RateLimitSpec {
                requests: 2000,
                window_seconds: 65,
            }),
            quota: Some(QuotaSpec {
                requests: 100_000,
                period: QuotaPeriodSpec::Month,
            }),
            limit_by: Default::default(),
            shadow: false,
        };
        assert_eq!(describe_plan(&plan), "2,000 requests per 65 s, 100,000 per month");
        let minute = PlanSpec {
            rate_limit: Some(RateLimitSpec {
                requests: 10,
                window_seconds: 60,
            }),
            quota: None,
            ..plan
        };
        assert_eq!(describe_plan(&minute), "10 requests per minute");
    }
}
