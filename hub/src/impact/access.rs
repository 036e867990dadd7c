//! Who may call what, before and after: every group named by an access rule, and every user by
//! their groups, asked of the gateway's rule (`domain::access_views::access_in`) for every method
//! and operation of every served API version; and the items that say who gains, loses or moves
//! to another plan.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use gateway::access::METHODS;
use gateway::compiled::CompiledSnapshot;
use gateway::snapshot::{ApiSpec, PlanSpec, Snapshot, VersionStatus};

use super::{Affects, ImpactError, Item, ItemKind, People, Severity, VersionKey, plans};
use crate::domain::access_views::access_in;

/// One snapshot with its compiled form, as a gateway would load it.
pub(super) struct Side<'a> {
    pub snapshot: &'a Snapshot,
    pub compiled: CompiledSnapshot,
}

impl<'a> Side<'a> {
    pub fn compile(snapshot: &'a Snapshot, side: &'static str) -> Result<Side<'a>, ImpactError> {
        let compiled =
            CompiledSnapshot::compile(snapshot, None).map_err(|errors| ImpactError::DoesNotCompile { side, errors })?;
        Ok(Side { snapshot, compiled })
    }

    pub fn api(&self, name: &str) -> Option<&'a ApiSpec> {
        self.snapshot.apis.iter().find(|api| api.name == name)
    }

    pub fn plan(&self, name: &str) -> Option<&'a PlanSpec> {
        self.snapshot.plans.iter().find(|plan| plan.name == name)
    }

    /// A version's status (an API without versions is published); `None` when not in the
    /// snapshot (a draft, or deleted).
    pub fn status(&self, key: &VersionKey) -> Option<VersionStatus> {
        let api = self.api(&key.0)?;
        match &key.1 {
            None if api.versions.is_empty() => Some(VersionStatus::Published),
            None => None,
            Some(name) => api
                .versions
                .iter()
                .find(|version| version.name == *name)
                .map(|version| version.status),
        }
    }

    /// Whether calls reach the version: it is in the snapshot and not retired.
    pub fn serves(&self, key: &VersionKey) -> bool {
        self.status(key).is_some_and(|status| status != VersionStatus::Retired)
    }

    /// Every API version in the snapshot, retired ones too.
    pub fn keys(&self) -> Vec<VersionKey> {
        self.snapshot
            .apis
            .iter()
            .flat_map(|api| {
                let versions: Vec<Option<String>> = if api.versions.is_empty() {
                    vec![None]
                } else {
                    api.versions.iter().map(|version| Some(version.name.clone())).collect()
                };
                versions.into_iter().map(|version| (api.name.clone(), version))
            })
            .collect()
    }
}

/// One thing a rule can grant: every call of a method, or the calls of one operation of the
/// version's OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Capability {
    /// An index into `gateway::access::METHODS`.
    Method(usize),
    Operation(String),
}

/// What a holder may call of one served API version: each capability with the plan its calls
/// count against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Grants {
    methods: BTreeMap<usize, String>,
    /// Every operation the version lists: its method, and its plan when allowed.
    operations: BTreeMap<String, (Option<usize>, Option<String>)>,
}

impl Grants {
    fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.operations.values().all(|(_, plan)| plan.is_none())
    }

    /// An operation's plan: as the version lists it, or, where the version does not list it
    /// (the gateway then matches its calls to no operation), its method's.
    fn operation_plan(&self, id: &str, method: Option<usize>) -> Option<&String> {
        match self.operations.get(id) {
            Some((_, plan)) => plan.as_ref(),
            None => method.and_then(|method| self.methods.get(&method)),
        }
    }
}

/// How one holder's access to one API version changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct VersionDiff {
    pub lost: BTreeSet<Capability>,
    /// Each capability gained, with its plan.
    pub gained: BTreeMap<Capability, String>,
    /// Plans (before, after) of capabilities held on both sides under different plans.
    pub moved: BTreeSet<(String, String)>,
    /// Plans of capabilities held on both sides under the same plan: whom a plan's change reaches.
    pub kept: BTreeSet<String>,
    /// Operations still allowed whose method is lost: `loses DELETE, except operation `x``.
    pub kept_operations: BTreeSet<String>,
    /// Nothing is left.
    pub lost_all: bool,
}

impl VersionDiff {
    fn between(before: Option<&Grants>, after: Option<&Grants>) -> VersionDiff {
        let empty = Grants::default();
        let (before, after) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
        let mut diff = VersionDiff {
            lost_all: !before.is_empty() && after.is_empty(),
            ..VersionDiff::default()
        };
        for method in 0..METHODS.len() {
            diff.compare(
                Capability::Method(method),
                before.methods.get(&method),
                after.methods.get(&method),
            );
        }
        let ids: BTreeSet<&String> = before.operations.keys().chain(after.operations.keys()).collect();
        for id in ids {
            let method = after
                .operations
                .get(id)
                .or_else(|| before.operations.get(id))
                .and_then(|(method, _)| *method);
            let held = |grants: &Grants| method.is_some_and(|method| grants.methods.contains_key(&method));
            // A call of the operation is a call of its method: what the method says covers it.
            if held(before) && held(after) {
                continue;
            }
            let (was, is) = (before.operation_plan(id, method), after.operation_plan(id, method));
            let lost_with_method = was.is_some() && is.is_none() && held(before);
            let gained_with_method = was.is_none() && is.is_some() && held(after);
            if !lost_with_method && !gained_with_method {
                diff.compare(Capability::Operation(id.clone()), was, is);
            }
            if held(before) && !held(after) && is.is_some() {
                diff.kept_operations.insert(id.clone());
            }
        }
        diff
    }

    fn compare(&mut self, capability: Capability, was: Option<&String>, is: Option<&String>) {
        match (was, is) {
            (Some(_), None) => {
                self.lost.insert(capability);
            }
            (None, Some(plan)) => {
                self.gained.insert(capability, plan.clone());
            }
            (Some(was), Some(is)) if was == is => {
                self.kept.insert(was.clone());
            }
            (Some(was), Some(is)) => {
                self.moved.insert((was.clone(), is.clone()));
            }
            (None, None) => {}
        }
    }

    fn is_empty(&self) -> bool {
        self.lost.is_empty() && self.gained.is_empty() && self.moved.is_empty()
    }
}

/// A group's, or a user's, access on both sides and how it changes.
#[derive(Debug, Default)]
pub(super) struct Holder {
    before: BTreeMap<VersionKey, Grants>,
    after: BTreeMap<VersionKey, Grants>,
    /// For every API version served after the change.
    pub diffs: BTreeMap<VersionKey, VersionDiff>,
}

impl Holder {
    fn compare(before: &Side, after: &Side, groups: &[String]) -> Holder {
        let mut holder = Holder {
            before: grants(before, groups),
            after: grants(after, groups),
            diffs: BTreeMap::new(),
        };
        let keys: BTreeSet<&VersionKey> = holder.before.keys().chain(holder.after.keys()).collect();
        for key in keys {
            if after.serves(key) {
                let diff = VersionDiff::between(holder.before.get(key), holder.after.get(key));
                holder.diffs.insert(key.clone(), diff);
            }
        }
        holder
    }

    /// Whether anything of the version could be called before the change.
    pub fn had(&self, key: &VersionKey) -> bool {
        self.before.contains_key(key)
    }

    /// Whether anything of the version can be called after the change.
    pub fn has(&self, key: &VersionKey) -> bool {
        self.after.contains_key(key)
    }

    fn diff(&self, key: &VersionKey) -> Option<&VersionDiff> {
        self.diffs.get(key)
    }
}

/// Every group named by an access rule, and every known user.
pub(super) struct Holders {
    pub groups: BTreeMap<String, Holder>,
    /// Users share a holder when they share their groups.
    user_holders: Vec<Holder>,
    users: Option<BTreeMap<String, (BTreeSet<String>, usize)>>,
}

impl Holders {
    pub fn compare(before: &Side, after: &Side, people: &People) -> Holders {
        let named: BTreeSet<&String> = [before, after]
            .iter()
            .flat_map(|side| side.snapshot.access_rules.iter())
            .flat_map(|rule| rule.groups.iter())
            .collect();
        let groups = named
            .into_iter()
            .map(|group| {
                let holder = Holder::compare(before, after, std::slice::from_ref(group));
                (group.clone(), holder)
            })
            .collect();
        let mut user_holders = Vec::new();
        let mut by_groups: HashMap<&BTreeSet<String>, usize> = HashMap::new();
        let users = people.users.as_ref().map(|users| {
            users
                .iter()
                .map(|(name, groups)| {
                    let index = *by_groups.entry(groups).or_insert_with(|| {
                        let groups: Vec<String> = groups.iter().cloned().collect();
                        user_holders.push(Holder::compare(before, after, &groups));
                        user_holders.len() - 1
                    });
                    (name.clone(), (groups.clone(), index))
                })
                .collect()
        });
        Holders {
            groups,
            user_holders,
            users,
        }
    }

    /// The groups whose access passes `test`.
    pub fn groups_where(&self, test: impl Fn(&Holder) -> bool) -> Vec<String> {
        self.groups
            .iter()
            .filter(|(_, holder)| test(holder))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The users whose access (by all their groups) passes `test`; `None` when users are not known.
    pub fn users_where(&self, test: impl Fn(&Holder) -> bool) -> Option<Vec<String>> {
        self.users_in(None, test)
    }

    /// The users in any of `groups`; `None` when users are not known.
    pub fn members(&self, groups: &[String]) -> Option<Vec<String>> {
        let users = self.users.as_ref()?;
        Some(
            users
                .iter()
                .filter(|(_, (theirs, _))| groups.iter().any(|group| theirs.contains(group)))
                .map(|(name, _)| name.clone())
                .collect(),
        )
    }

    /// As [`Holders::users_where`], among the members of `group` only.
    fn users_in(&self, group: Option<&str>, test: impl Fn(&Holder) -> bool) -> Option<Vec<String>> {
        let users = self.users.as_ref()?;
        Some(
            users
                .iter()
                .filter(|(_, (groups, _))| group.is_none_or(|group| groups.contains(group)))
                .filter(|(_, (_, index))| test(&self.user_holders[*index]))
                .map(|(name, _)| name.clone())
                .collect(),
        )
    }
}

/// What `groups` may call of every served API version on one side; versions with nothing
/// allowed are left out.
fn grants(side: &Side, groups: &[String]) -> BTreeMap<VersionKey, Grants> {
    let mut all = BTreeMap::new();
    // Groups no rule names are granted nothing; asking would only say so for every method.
    if side.compiled.group_ids(groups.iter().map(String::as_str)).is_empty() {
        return all;
    }
    for compiled in &side.compiled.apis {
        let Some(spec) = side.api(&compiled.name) else {
            continue;
        };
        let access = access_in(side.snapshot, &side.compiled, compiled, groups);
        for (index, version) in access.versions.iter().enumerate() {
            if version.status.as_deref() == Some("retired") {
                continue;
            }
            let mut found = Grants::default();
            for method in &version.methods {
                if let (Some(plan), Some(index)) = (&method.plan, method_index(method.method)) {
                    found.methods.insert(index, plan.clone());
                }
            }
            let listed = match &version.version {
                Some(_) => spec.versions[index].operations.as_slice(),
                None => &[],
            };
            for operation in listed {
                let method = method_index(&operation.method);
                // The view lists operations only where a rule names them; elsewhere an
                // operation is allowed exactly when its method is.
                let plan = if version.operations.is_empty() {
                    method.and_then(|method| found.methods.get(&method).cloned())
                } else {
                    version
                        .operations
                        .iter()
                        .find(|answer| answer.id == operation.id)
                        .and_then(|answer| answer.plan.clone())
                };
                found.operations.insert(operation.id.clone(), (method, plan));
            }
            if !found.is_empty() {
                all.insert((access.api.clone(), version.version.clone()), found);
            }
        }
    }
    all
}

fn method_index(method: &str) -> Option<usize> {
    METHODS.iter().position(|known| known.eq_ignore_ascii_case(method))
}

/// One group's change on one API version, before versions with the same change are merged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Change {
    severity: Severity,
    kind: ItemKind,
    group: String,
    api: String,
    /// The sentence up to the API: `loses DELETE on`, `moves from plan `a` to `b` on`.
    phrase: String,
    /// After the versions: ` (plan `gold`)`.
    tail: String,
}

/// Who gains or loses what, and who moves to another plan, group by group; a group's same
/// change on several versions of an API is one item.
pub(super) fn items(before: &Side, after: &Side, holders: &Holders) -> Vec<Item> {
    // Each change with the versions it happens on and the users it reaches.
    let mut merged: BTreeMap<Change, (Vec<Option<String>>, BTreeSet<String>)> = BTreeMap::new();
    for (group, holder) in &holders.groups {
        for (key, diff) in &holder.diffs {
            if diff.is_empty() {
                continue;
            }
            let mut changes: Vec<(Change, Option<Vec<String>>)> = Vec::new();
            let change = |severity, kind, phrase: String, tail: String| Change {
                severity,
                kind,
                group: group.clone(),
                api: key.0.clone(),
                phrase,
                tail,
            };
            if !diff.lost.is_empty() {
                let phrase = if diff.lost_all {
                    "loses all access to".to_owned()
                } else {
                    format!("loses {} on", describe(diff.lost.iter()))
                };
                let tail = match diff.kept_operations.len() {
                    0 => String::new(),
                    1 => format!(", except operation {}", super::quoted(&diff.kept_operations)),
                    _ => format!(", except operations {}", super::quoted(&diff.kept_operations)),
                };
                let users = holders.users_in(Some(group), |user| {
                    user.diff(key).is_some_and(|mine| !mine.lost.is_disjoint(&diff.lost))
                });
                changes.push((change(Severity::Narrowing, ItemKind::AccessLost, phrase, tail), users));
            }
            if !diff.gained.is_empty() {
                let plans: BTreeSet<&String> = diff.gained.values().collect();
                let word = if plans.len() == 1 { "plan" } else { "plans" };
                let phrase = format!("gains {} on", describe(diff.gained.keys()));
                let tail = format!(" ({word} {})", super::quoted(plans));
                let users = holders.users_in(Some(group), |user| {
                    user.diff(key)
                        .is_some_and(|mine| mine.gained.keys().any(|gained| diff.gained.contains_key(gained)))
                });
                changes.push((change(Severity::Widening, ItemKind::AccessGained, phrase, tail), users));
            }
            for (was, is) in &diff.moved {
                let (severity, detail) = match (before.plan(was), after.plan(is)) {
                    (Some(was), Some(is)) => plans::moved(was, is),
                    _ => (Severity::Info, String::new()),
                };
                let phrase = format!("moves from plan `{was}` to `{is}` on");
                let tail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                };
                let pair = (was.clone(), is.clone());
                let users = holders.users_in(Some(group), |user| {
                    user.diff(key).is_some_and(|mine| mine.moved.contains(&pair))
                });
                changes.push((change(severity, ItemKind::PlanMoved, phrase, tail), users));
            }
            for (change, users) in changes {
                let (versions, all_users) = merged.entry(change).or_default();
                versions.push(key.1.clone());
                all_users.extend(users.into_iter().flatten());
            }
        }
    }
    merged
        .into_iter()
        .map(|(change, (versions, users))| {
            let versions: Vec<String> = versions.into_iter().flatten().collect();
            let versions = if versions.is_empty() {
                String::new()
            } else {
                format!(" {}", versions.join(", "))
            };
            let users: Option<Vec<String>> = holders.users.is_some().then(|| users.into_iter().collect());
            let affects = Affects {
                apis: None,
                groups: None,
                users: users.as_deref(),
                applications: None,
            };
            Item {
                severity: change.severity,
                kind: change.kind,
                message: format!(
                    "group `{}` {} `{}`{versions}{}{}",
                    change.group,
                    change.phrase,
                    change.api,
                    change.tail,
                    affects.suffix()
                ),
                apis: vec![change.api],
                groups: vec![change.group],
                users,
                applications: None,
            }
        })
        .collect()
}

/// `DELETE, PUT and operation `x``; `every method` when all are there.
fn describe<'c>(capabilities: impl Iterator<Item = &'c Capability>) -> String {
    let mut methods = Vec::new();
    let mut operations = Vec::new();
    for capability in capabilities {
        match capability {
            Capability::Method(index) => methods.push(METHODS[*index]),
            Capability::Operation(id) => operations.push(id),
        }
    }
    let mut parts = Vec::new();
    if methods.len() == METHODS.len() {
        parts.push("every method".to_owned());
    } else if !methods.is_empty() {
        parts.push(methods.join(", "));
    }
    match operations.len() {
        0 => {}
        1 => parts.push(format!("operation `{}`", operations[0])),
        _ => parts.push(format!("operations {}", super::quoted(operations))),
    }
    parts.join(" and ")
}
