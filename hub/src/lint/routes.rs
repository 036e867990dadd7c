//! Routes as the gateway matches them (`gateway::route`): two APIs that claim the same host and
//! path prefix, and a version's path selector that another API's route takes over.
//!
//! Nested prefixes on one host are fine (`/pets` and `/pets/admin`: the longest prefix wins, as
//! meant). What is reported is a route that can receive no request at all: one another API
//! already claims, however it is spelled (`/pets/` and `/pets`, `API.example.com` and
//! `api.example.com`), and a version selected by path segment `v2` under `/pets` when another API
//! on the same host claims `/pets/v2` exactly, so that every request for the version reaches the
//! other API.

use gateway::route::{RouteKey, RouteTable};

use super::index::{ApiEntry, Index};
use super::{Finding, finding};
use crate::model::{Selector, VersionStatus};

/// Finds `route-collision` and `route-shadowed`.
pub(super) fn check(index: &Index<'_>, findings: &mut Vec<Finding>) {
    let keys: Vec<Option<RouteKey>> = index.apis.iter().map(route_key).collect();
    let mut table = RouteTable::default();
    for (position, key) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
        if let Err(holder) = table.insert(key, position) {
            findings.push(collision(&index.apis[holder], &index.apis[position], key));
        }
    }
    for (position, (api, key)) in index.apis.iter().zip(&keys).enumerate() {
        let Some(key) = key else { continue };
        for version in &api.versions {
            let Some(Selector::Path { segment }) = &version.spec.selector else {
                continue;
            };
            // A retired version answers nothing anyway.
            if version.spec.status == VersionStatus::Retired {
                continue;
            }
            let path = if key.path_prefix == "/" {
                format!("/{segment}")
            } else {
                format!("{}/{segment}", key.path_prefix)
            };
            let Some(found) = table.find(&probe_host(key), &path) else {
                continue;
            };
            if found.api == position {
                continue;
            }
            let other = &index.apis[found.api];
            findings.push(finding(
                "route-shadowed",
                api.document.locate(&version.field("selector.segment")),
                format!(
                    "version `{}` of API `{}` is selected by the path `{path}`, which is the route of API `{}` ({}): \
                     its requests go to `{}`",
                    version.spec.name,
                    api.document.name,
                    other.document.name,
                    other.document.name_location(),
                    other.document.name,
                ),
            ));
        }
    }
}

/// The API's route, normalised; `None` when it is invalid (an `invalid-value` finding).
fn route_key(api: &ApiEntry<'_>) -> Option<RouteKey> {
    let route = &api.spec.as_ref()?.route;
    RouteKey::new(route.host.as_deref(), &route.path_prefix).ok()
}

/// A host that only this route's host table answers for: the host itself, a name under a
/// wildcard, or a name no API claims for an any-host route. The `.invalid` top-level domain is
/// reserved, so no API can claim it.
fn probe_host(key: &RouteKey) -> String {
    match key.host.as_deref() {
        None => "gatehouse-lint.invalid".to_owned(),
        Some(host) => match host.strip_prefix("*.") {
            Some(parent) => format!("gatehouse-lint.{parent}"),
            None => host.to_owned(),
        },
    }
}

fn collision(holder: &ApiEntry<'_>, api: &ApiEntry<'_>, key: &RouteKey) -> Finding {
    let written = |api: &ApiEntry<'_>| {
        api.spec.as_ref().map(|spec| {
            format!(
                "{}{}",
                spec.route
                    .host
                    .as_deref()
                    .filter(|host| !host.is_empty())
                    .unwrap_or("*"),
                spec.route.path_prefix
            )
        })
    };
    let (holder_written, api_written) = (written(holder), written(api));
    let spelling = match (holder_written, api_written) {
        (Some(left), Some(right)) if left != right => {
            format!(" (`{left}` and `{right}` are the same route once normalised)")
        }
        _ => String::new(),
    };
    finding(
        "route-collision",
        api.document.locate("route.path_prefix"),
        format!(
            "API `{}` claims the route `{key}`, which API `{}` ({}) already claims{spelling}",
            api.document.name,
            holder.document.name,
            holder.document.name_location(),
        ),
    )
}
