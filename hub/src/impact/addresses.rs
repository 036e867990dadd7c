//! Access policies' IP lists, before and after: a grant that keeps its groups, API and plan but
//! now applies from fewer addresses (or more) changes nothing the by-method comparison
//! (`access`) can see, since that asks for an address every list takes; this says who is
//! narrowed, and to where.

use std::collections::{BTreeMap, BTreeSet};

use gateway::snapshot::AccessRuleSpec;

use super::access::{Holders, Side};
use super::{Affects, Item, ItemKind, Severity};

/// One item per enforced grant (policy and API) whose IP lists change, or that is new with lists.
pub(super) fn items(before: &Side, after: &Side, holders: &Holders) -> Vec<Item> {
    let (was, is) = (grants(before), grants(after));
    let mut items = Vec::new();
    for (key, rule) in &is {
        let lists = Lists::of(rule);
        let (severity, message) = match was.get(key).map(|old| Lists::of(old)) {
            Some(old) if old == lists => continue,
            Some(old) => (
                old.compare(&lists),
                format!(
                    "access policy `{}` now grants API `{}` {} (was: {})",
                    key.0,
                    key.1,
                    lists.describe(),
                    old.describe()
                ),
            ),
            None if lists.is_empty() => continue,
            None => (
                Severity::Info,
                format!("access policy `{}` grants API `{}` {}", key.0, key.1, lists.describe()),
            ),
        };
        let groups: Vec<String> = rule
            .groups
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let users = holders.members(&groups);
        let affects = Affects {
            apis: None,
            groups: Some(&groups),
            users: users.as_deref(),
            applications: None,
        };
        items.push(Item {
            severity,
            kind: ItemKind::IpListsChanged,
            message: format!("{message}{}", affects.suffix()),
            apis: vec![key.1.clone()],
            groups,
            users,
            applications: None,
        });
    }
    items
}

/// The enforced rules by access policy and API; a policy's grants of one API share its lists.
fn grants<'a>(side: &Side<'a>) -> BTreeMap<(String, String), &'a AccessRuleSpec> {
    side.snapshot
        .access_rules
        .iter()
        .filter(|rule| !rule.shadow)
        .map(|rule| ((rule.policy.clone(), rule.api.clone()), rule))
        .collect()
}

/// A rule's two lists as sets, so that order does not count as a change.
#[derive(Debug, PartialEq, Eq)]
struct Lists<'a> {
    allow: BTreeSet<&'a str>,
    deny: BTreeSet<&'a str>,
}

impl<'a> Lists<'a> {
    fn of(rule: &'a AccessRuleSpec) -> Lists<'a> {
        Lists {
            allow: rule.ip_allow.iter().map(String::as_str).collect(),
            deny: rule.ip_deny.iter().map(String::as_str).collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// Narrowing when some address may lose the grant: an allow list where there was none, an
    /// allowed network gone, a denied one added. Otherwise the change only widens. Networks are
    /// compared as written, so rewriting one as two halves reads as both.
    fn compare(&self, after: &Lists<'_>) -> Severity {
        let allow_narrows = match (self.allow.is_empty(), after.allow.is_empty()) {
            (true, false) => true,
            (false, false) => !self.allow.is_subset(&after.allow),
            _ => false,
        };
        let deny_narrows = !after.deny.is_subset(&self.deny);
        if allow_narrows || deny_narrows {
            Severity::Narrowing
        } else {
            Severity::Widening
        }
    }

    /// `only from 10.0.0.0/8, not from 10.9.0.0/16`, or `from any address`.
    fn describe(&self) -> String {
        let list = |set: &BTreeSet<&str>| set.iter().copied().collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !self.allow.is_empty() {
            parts.push(format!("only from {}", list(&self.allow)));
        }
        if !self.deny.is_empty() {
            parts.push(format!("not from {}", list(&self.deny)));
        }
        if parts.is_empty() {
            "from any address".to_owned()
        } else {
            parts.join(", ")
        }
    }
}
