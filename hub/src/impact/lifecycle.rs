//! APIs and versions added, deprecated, retired or removed, and routes, selectors and upstreams
//! changed: each with those who could call what it removes (or can call what it adds), and the
//! applications that called it lately when the hub says.

use std::collections::BTreeSet;

use gateway::snapshot::{ApiSpec, SelectorSpec, UpstreamSpec, VersionStatus};

use super::access::{Holders, Side};
use super::{Affects, Item, ItemKind, People, Severity, VersionKey, target};

/// The lifecycle items of every API in either snapshot.
pub(super) fn items(before: &Side, after: &Side, holders: &Holders, people: &People) -> Vec<Item> {
    let mut items = Vec::new();
    let names: BTreeSet<&String> = before
        .snapshot
        .apis
        .iter()
        .chain(after.snapshot.apis.iter())
        .map(|api| &api.name)
        .collect();
    for name in names {
        let context = Context {
            api: name,
            before,
            after,
            holders,
            people,
        };
        match (before.api(name), after.api(name)) {
            (Some(_), None) => items.push(context.item(
                Severity::BreakingRemoval,
                ItemKind::ApiRemoved,
                format!("API `{name}` removed"),
                Reach::HadApi,
            )),
            (None, Some(_)) => items.push(context.item(
                Severity::Info,
                ItemKind::ApiAdded,
                format!("API `{name}` added"),
                Reach::HasApi,
            )),
            (Some(was), Some(is)) => {
                context.api_changes(was, is, &mut items);
                context.version_changes(&mut items);
            }
            (None, None) => {}
        }
    }
    items
}

/// Whom an item reaches.
enum Reach {
    /// Those who could call any version of the API before.
    HadApi,
    /// Those who can call any version of the API after.
    HasApi,
    /// Those who could call this version before.
    Had(VersionKey),
    /// Those who can call this version after.
    Has(VersionKey),
    /// No one: only the API is named.
    Nobody,
}

struct Context<'a> {
    api: &'a String,
    before: &'a Side<'a>,
    after: &'a Side<'a>,
    holders: &'a Holders,
    people: &'a People,
}

impl Context<'_> {
    fn api_changes(&self, was: &ApiSpec, is: &ApiSpec, items: &mut Vec<Item>) {
        let name = self.api;
        let (old_route, new_route) = (route(was), route(is));
        if old_route != new_route {
            items.push(self.item(
                Severity::BreakingRemoval,
                ItemKind::RouteChanged,
                format!("API `{name}` route `{old_route}` → `{new_route}`: calls to `{old_route}` no longer reach it"),
                Reach::HadApi,
            ));
        }
        if was.strip_prefix != is.strip_prefix {
            let what = if is.strip_prefix {
                "now strips its prefix before forwarding"
            } else {
                "no longer strips its prefix before forwarding"
            };
            items.push(self.item(
                Severity::Info,
                ItemKind::StripPrefixChanged,
                format!("API `{name}` {what}"),
                Reach::Nobody,
            ));
        }
        if was.upstream != is.upstream {
            items.push(self.item(
                Severity::Info,
                ItemKind::UpstreamChanged,
                format!(
                    "API `{name}` upstream {} → {}",
                    targets(&was.upstream),
                    targets(&is.upstream)
                ),
                Reach::Nobody,
            ));
        }
    }

    fn version_changes(&self, items: &mut Vec<Item>) {
        let keys: BTreeSet<VersionKey> = self
            .before
            .keys()
            .into_iter()
            .chain(self.after.keys())
            .filter(|key| key.0 == *self.api)
            .collect();
        for key in keys {
            let shown = target(&key);
            let (was, is) = (self.before.status(&key), self.after.status(&key));
            use VersionStatus::{Deprecated, Published, Retired};
            let change = match (was, is) {
                (Some(Retired), None) => Some((
                    Severity::Info,
                    ItemKind::VersionRemoved,
                    format!("{shown} removed (it was retired)"),
                    Reach::Nobody,
                )),
                (Some(_), None) => Some((
                    Severity::BreakingRemoval,
                    ItemKind::VersionRemoved,
                    format!("{shown} removed"),
                    Reach::Had(key.clone()),
                )),
                (None, Some(Retired)) => Some((
                    Severity::Info,
                    ItemKind::VersionAdded,
                    format!("{shown} added, retired"),
                    Reach::Nobody,
                )),
                (None, Some(_)) => Some((
                    Severity::Info,
                    ItemKind::VersionAdded,
                    format!("{shown} added"),
                    Reach::Has(key.clone()),
                )),
                (Some(Published | Deprecated), Some(Retired)) => Some((
                    Severity::BreakingRemoval,
                    ItemKind::VersionRetired,
                    format!("{shown} retired"),
                    Reach::Had(key.clone()),
                )),
                (Some(Retired), Some(_)) => Some((
                    Severity::Info,
                    ItemKind::VersionRestored,
                    format!("{shown} served again (it was retired)"),
                    Reach::Has(key.clone()),
                )),
                (Some(Published), Some(Deprecated)) => Some((
                    Severity::Info,
                    ItemKind::VersionDeprecated,
                    format!("{shown} deprecated"),
                    Reach::Has(key.clone()),
                )),
                (Some(Deprecated), Some(Published)) => Some((
                    Severity::Info,
                    ItemKind::VersionUndeprecated,
                    format!("{shown} no longer deprecated"),
                    Reach::Has(key.clone()),
                )),
                _ => None,
            };
            if let Some((severity, kind, message, reach)) = change {
                items.push(self.item(severity, kind, message, reach));
            }
            if self.before.serves(&key) && self.after.serves(&key) {
                self.served_version_changes(&key, items);
            }
        }
    }

    /// Changes to a version served before and after: how calls select it, where they go.
    fn served_version_changes(&self, key: &VersionKey, items: &mut Vec<Item>) {
        let (Some(name), Some(was), Some(is)) = (key.1.as_ref(), self.before.api(self.api), self.after.api(self.api))
        else {
            return;
        };
        let (Some(was), Some(is)) = (
            was.versions.iter().find(|version| version.name == *name),
            is.versions.iter().find(|version| version.name == *name),
        ) else {
            return;
        };
        let shown = target(key);
        if was.selector != is.selector {
            items.push(self.item(
                Severity::BreakingRemoval,
                ItemKind::SelectorChanged,
                format!(
                    "{shown} selected by {} → {}: calls that select it the old way no longer reach it",
                    selector(was.selector.as_ref()),
                    selector(is.selector.as_ref())
                ),
                Reach::Had(key.clone()),
            ));
        }
        if was.upstream != is.upstream {
            let shown_upstream = |upstream: Option<&UpstreamSpec>| match upstream {
                Some(upstream) => targets(upstream),
                None => "the API's".to_owned(),
            };
            items.push(self.item(
                Severity::Info,
                ItemKind::UpstreamChanged,
                format!(
                    "{shown} upstream {} → {}",
                    shown_upstream(was.upstream.as_ref()),
                    shown_upstream(is.upstream.as_ref())
                ),
                Reach::Nobody,
            ));
        }
    }

    fn item(&self, severity: Severity, kind: ItemKind, message: String, reach: Reach) -> Item {
        let holders = self.holders;
        let (groups, users) = match &reach {
            Reach::HadApi => (
                holders.groups_where(|holder| self.any_key(|key| holder.had(key))),
                holders.users_where(|holder| self.any_key(|key| holder.had(key))),
            ),
            Reach::HasApi => (
                holders.groups_where(|holder| self.any_key(|key| holder.has(key))),
                holders.users_where(|holder| self.any_key(|key| holder.has(key))),
            ),
            Reach::Had(key) => (
                holders.groups_where(|holder| holder.had(key)),
                holders.users_where(|holder| holder.had(key)),
            ),
            Reach::Has(key) => (
                holders.groups_where(|holder| holder.has(key)),
                holders.users_where(|holder| holder.has(key)),
            ),
            Reach::Nobody => (Vec::new(), None),
        };
        let users = match reach {
            Reach::Nobody => None,
            _ => users,
        };
        // Who called it matters where calls will fail or should move: not for additions.
        let applications = match (&reach, &self.people.callers) {
            (Reach::HadApi, Some(callers)) => Some(
                callers
                    .iter()
                    .filter(|(key, _)| key.0 == *self.api)
                    .flat_map(|(_, applications)| applications.iter().cloned())
                    .collect::<BTreeSet<String>>(),
            ),
            (Reach::Had(key), Some(callers)) => Some(callers.get(key).cloned().unwrap_or_default()),
            (Reach::Has(key), Some(callers)) if kind == ItemKind::VersionDeprecated => {
                Some(callers.get(key).cloned().unwrap_or_default())
            }
            _ => None,
        }
        .map(|applications| applications.into_iter().collect::<Vec<String>>());
        let affects = Affects {
            apis: None,
            groups: Some(&groups),
            users: users.as_deref(),
            applications: applications.as_deref(),
        };
        Item {
            severity,
            kind,
            message: format!("{message}{}", affects.suffix()),
            apis: vec![self.api.clone()],
            groups,
            users,
            applications,
        }
    }

    /// Whether `test` holds for any version of the API, on either side.
    fn any_key(&self, test: impl Fn(&VersionKey) -> bool) -> bool {
        self.before
            .keys()
            .into_iter()
            .chain(self.after.keys())
            .filter(|key| key.0 == *self.api)
            .any(|key| test(&key))
    }
}

/// `api.example.com/pets`, or `/pets` for any host.
fn route(api: &ApiSpec) -> String {
    format!("{}{}", api.host.as_deref().unwrap_or(""), api.path_prefix)
}

/// `` `http://a:80`, `http://b:80` (weight 10) ``.
fn targets(upstream: &UpstreamSpec) -> String {
    let all: Vec<String> = upstream
        .targets
        .iter()
        .map(|target| {
            if upstream.targets.len() > 1 {
                format!("`{}` (weight {})", target.url, target.weight)
            } else {
                format!("`{}`", target.url)
            }
        })
        .collect();
    if all.is_empty() {
        "no targets".to_owned()
    } else {
        all.join(", ")
    }
}

fn selector(selector: Option<&SelectorSpec>) -> String {
    match selector {
        None => "default (no selector)".to_owned(),
        Some(SelectorSpec::Path { segment }) => format!("path segment `{segment}`"),
        Some(SelectorSpec::Header { name, value }) => format!("header `{name}: {value}`"),
        Some(SelectorSpec::Query { name, value }) => format!("query `{name}={value}`"),
    }
}
