//! Shadowed access policies and plans that the change enforces: each with who it would have
//! refused in the last hour and how often, when a hub says (`People::shadow_refusals`). What an
//! enforced replacing policy takes away is an access item like any other (`access`).

use std::collections::BTreeSet;

use super::access::Side;
use super::{Item, ItemKind, People, Severity};
use crate::domain::shadow::{RefusedUser, sentence};

/// An item for each plan and access policy shadowed before and enforced after.
pub(super) fn items(before: &Side, after: &Side, people: &People) -> Vec<Item> {
    let mut items = Vec::new();
    for was in before.snapshot.plans.iter().filter(|plan| plan.shadow) {
        let Some(is) = after.plan(&was.name) else {
            continue;
        };
        if is.shadow {
            continue;
        }
        let apis: BTreeSet<String> = after
            .snapshot
            .access_rules
            .iter()
            .filter(|rule| rule.plan == was.name && !rule.shadow)
            .map(|rule| rule.api.clone())
            .collect();
        items.push(item("plan", &was.name, Severity::LimitLowered, apis, people));
    }
    let shadowed: BTreeSet<&str> = before
        .snapshot
        .access_rules
        .iter()
        .filter(|rule| rule.shadow)
        .map(|rule| rule.policy.as_str())
        .collect();
    for policy in shadowed {
        let enforced: Vec<_> = after
            .snapshot
            .access_rules
            .iter()
            .filter(|rule| rule.policy == policy && !rule.shadow)
            .collect();
        if enforced.is_empty() {
            continue;
        }
        let apis: BTreeSet<String> = enforced.iter().map(|rule| rule.api.clone()).collect();
        let mut found = item("policy", policy, Severity::Narrowing, apis, people);
        found.groups = enforced
            .iter()
            .flat_map(|rule| rule.groups.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        items.push(found);
    }
    items
}

/// The item of one rule leaving shadow mode: as bad as `severity` unless a hub says it would
/// have refused no one.
fn item(kind: &str, name: &str, severity: Severity, apis: BTreeSet<String>, people: &People) -> Item {
    let known = people.shadow_refusals.as_ref().map(|all| {
        all.get(&(kind.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or_default()
    });
    let (severity, tail) = match &known {
        Some(users) if users.is_empty() => (Severity::Info, format!("it {}", sentence(users))),
        Some(users) => (severity, format!("it {}", sentence(users))),
        None => (severity, "a hub (`--hub`) knows whom it would have refused".to_owned()),
    };
    let named =
        |users: &Vec<RefusedUser>| -> Vec<String> { users.iter().filter_map(|user| user.user.clone()).collect() };
    Item {
        severity,
        kind: ItemKind::ShadowEnforced,
        message: format!("{kind} `{name}` leaves shadow mode and will refuse: {tail}"),
        apis: apis.into_iter().collect(),
        groups: Vec::new(),
        users: known.as_ref().map(named),
        applications: None,
    }
}
