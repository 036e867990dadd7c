//! A snapshot compiled for the hot path: routes in hash tables, API keys by hash, groups
//! interned, rules attached to their API, upstreams ready to balance. Compiling validates
//! everything; a snapshot that fails is never swapped in, and every problem is reported with
//! the field it is in.

mod api;
mod consumers;

use std::collections::HashMap;
use std::sync::Arc;

pub use api::{CompiledApi, CompiledVersion, Operation, VersionChoice};
pub use consumers::{Consumer, Consumers, CredentialEntry, KeyIdSpan};

use crate::access::{GroupId, MethodSet, Rule};
use crate::edge::cidr::IpLists;
use crate::jwt::IssuerConfig;
use crate::route::{RouteKey, RouteTable};
use crate::snapshot::{PlanSpec, Snapshot};
use crate::upstream::PoolCache;

/// One problem found while compiling, with the field it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CompileError {
    pub field: String,
    pub message: String,
}

/// Every problem found in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct CompileErrors(pub Vec<CompileError>);

/// A validated snapshot with its lookup tables.
#[derive(Debug)]
pub struct CompiledSnapshot {
    pub revision: u64,
    pub content_hash: String,
    pub routes: RouteTable,
    pub apis: Vec<CompiledApi>,
    pub plans: Vec<PlanSpec>,
    pub consumers: Consumers,
    /// Group name → id, for groups named by rules and consumers.
    pub groups: foldhash::HashMap<Box<str>, GroupId>,
    pub group_names: Vec<Arc<str>>,
    pub jwt_issuers: Vec<IssuerConfig>,
    /// Shadowed access policies, per API; `None` when there are none (`shadow`).
    pub shadow: Option<Box<crate::shadow::ShadowAccess>>,
    /// The TLS listener's certificates and client verifier from the snapshot (`tls`).
    pub tls: crate::tls::CompiledTls,
}

/// Collects problems as compilation goes.
#[derive(Default)]
pub(crate) struct Problems(pub(crate) Vec<CompileError>);

impl Problems {
    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(CompileError {
            field: field.into(),
            message: message.into(),
        });
    }
}

impl CompiledSnapshot {
    /// Validates a snapshot and builds its tables. `pools` gives upstream targets their connection
    /// pools; without it (in the hub) upstreams are checked but cannot send.
    pub fn compile<C: crate::snapshot::Consumer>(
        snapshot: &Snapshot<C>,
        pools: Option<&PoolCache>,
    ) -> Result<CompiledSnapshot, CompileErrors> {
        let mut problems = Problems::default();
        let plans = index_plans(&snapshot.plans, &mut problems);
        let mut groups = GroupTable::default();

        let mut apis = Vec::with_capacity(snapshot.apis.len());
        let mut routes = RouteTable::default();
        let mut api_index: HashMap<&str, usize> = HashMap::new();
        let mut shadow_rules = Vec::new();
        let mut ip_lists = RuleIpLists::default();
        for (index, spec) in snapshot.apis.iter().enumerate() {
            let field = format!("apis[{index}]");
            if api_index.insert(spec.name.as_str(), index).is_some() {
                problems.push(format!("{field}.name"), format!("API `{}` is listed twice", spec.name));
            }
            match RouteKey::new(spec.host.as_deref(), &spec.path_prefix) {
                Ok(key) => {
                    if let Err(holder) = routes.insert(&key, index) {
                        let holder = &snapshot.apis[holder].name;
                        problems.push(
                            format!("{field}.path_prefix"),
                            format!("route `{key}` is already claimed by API `{holder}`"),
                        );
                    }
                }
                Err(error) => problems.push(format!("{field}.path_prefix"), error.to_string()),
            }
            apis.push(CompiledApi::compile(spec, &field, pools, &mut problems));
        }

        for (index, rule) in snapshot.access_rules.iter().enumerate() {
            let field = format!("access_rules[{index}]");
            let Some(&api_position) = api_index.get(rule.api.as_str()) else {
                problems.push(format!("{field}.api"), format!("unknown API `{}`", rule.api));
                continue;
            };
            let api = &mut apis[api_position];
            let mut versions = Vec::new();
            for (version_index, name) in rule.versions.iter().enumerate() {
                match api.versions.iter().position(|version| &*version.name == name) {
                    Some(position) => versions.push(position),
                    None => problems.push(
                        format!("{field}.versions[{version_index}]"),
                        format!("API `{}` has no version `{name}`", rule.api),
                    ),
                }
            }
            let methods = MethodSet::parse(rule.methods.iter().map(String::as_str)).unwrap_or_else(|unknown| {
                problems.push(
                    format!("{field}.methods"),
                    format!("`{unknown}` is not a method a rule can grant"),
                );
                MethodSet::EMPTY
            });
            let Some(&plan) = plans.get(rule.plan.as_str()) else {
                problems.push(format!("{field}.plan"), format!("unknown plan `{}`", rule.plan));
                continue;
            };
            if rule.groups.is_empty() {
                problems.push(format!("{field}.groups"), "must name at least one group");
            }
            let operations = (!rule.operations.is_empty()).then(|| {
                rule.operations
                    .iter()
                    .map(|operation| Arc::from(operation.as_str()))
                    .collect()
            });
            api.names_operations |= operations.is_some();
            let compiled_rule = Rule {
                policy: rule.policy.as_str().into(),
                groups: groups.intern_all(rule.groups.iter().map(String::as_str)),
                versions: (!rule.versions.is_empty()).then(|| versions.into()),
                methods,
                operations,
                plan,
                ip: ip_lists.compile(&rule.ip_allow, &rule.ip_deny, &field, &mut problems),
            };
            // A shadowed rule is never enforced: it only feeds the shadow evaluation.
            if rule.shadow {
                shadow_rules.push(crate::shadow::ShadowRule {
                    api: api_position,
                    rule: compiled_rule,
                    replaces: &rule.replaces,
                });
            } else {
                api.rules.push(compiled_rule);
            }
        }
        let enforced: Vec<&[Rule]> = apis.iter().map(|api| api.rules.as_slice()).collect();
        let shadow = crate::shadow::ShadowAccess::compile(&enforced, shadow_rules);

        let consumers = Consumers::compile(&snapshot.consumers, &mut groups, &mut problems);
        check_issuers(&snapshot.jwt_issuers, &mut problems);
        let tls = crate::tls::CompiledTls::compile(snapshot.tls.as_ref()).unwrap_or_else(|errors| {
            for error in errors {
                problems.push(error.field, error.message);
            }
            crate::tls::CompiledTls::default()
        });

        if !problems.0.is_empty() {
            return Err(CompileErrors(problems.0));
        }
        Ok(CompiledSnapshot {
            revision: snapshot.revision,
            content_hash: snapshot.content_hash.clone(),
            routes,
            apis,
            plans: snapshot.plans.clone(),
            consumers,
            groups: groups.ids,
            group_names: groups.names,
            jwt_issuers: snapshot.jwt_issuers.clone(),
            shadow,
            tls,
        })
    }

    /// Ids of the named groups this snapshot knows, sorted; unknown names grant nothing.
    pub fn group_ids<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<GroupId> {
        let mut ids: Vec<GroupId> = names
            .into_iter()
            .filter_map(|name| self.groups.get(name).copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

fn index_plans<'a>(plans: &'a [PlanSpec], problems: &mut Problems) -> HashMap<&'a str, usize> {
    let mut index = HashMap::new();
    for (position, plan) in plans.iter().enumerate() {
        let field = format!("plans[{position}]");
        if index.insert(plan.name.as_str(), position).is_some() {
            problems.push(format!("{field}.name"), format!("plan `{}` is listed twice", plan.name));
        }
        if let Some(rate) = &plan.rate_limit {
            if rate.requests == 0 {
                problems.push(format!("{field}.rate_limit.requests"), "must be at least 1");
            }
            if !(1..=86_400).contains(&rate.window_seconds) {
                problems.push(format!("{field}.rate_limit.window_seconds"), "must be 1 to 86400");
            }
        }
        if plan.quota.is_some_and(|quota| quota.requests == 0) {
            problems.push(format!("{field}.quota.requests"), "must be at least 1");
        }
    }
    index
}

fn check_issuers(issuers: &[IssuerConfig], problems: &mut Problems) {
    let mut seen = std::collections::HashSet::new();
    for (index, issuer) in issuers.iter().enumerate() {
        let field = format!("jwt_issuers[{index}]");
        if !seen.insert(issuer.issuer.as_str()) {
            problems.push(
                format!("{field}.issuer"),
                format!("issuer `{}` is listed twice", issuer.issuer),
            );
        }
        for problem in issuer.problems() {
            problems.push(field.clone(), problem.problem.to_string());
        }
    }
}

/// The access rules' IP lists, compiled once per distinct pair: a policy's grants all carry
/// the same lists, and share them.
#[derive(Default)]
struct RuleIpLists<'s> {
    compiled: HashMap<(&'s [String], &'s [String]), Arc<IpLists>>,
}

impl<'s> RuleIpLists<'s> {
    /// `None` for a rule without lists; `field` is the rule's (`access_rules[3]`).
    fn compile(
        &mut self,
        allow: &'s [String],
        deny: &'s [String],
        field: &str,
        problems: &mut Problems,
    ) -> Option<Arc<IpLists>> {
        if allow.is_empty() && deny.is_empty() {
            return None;
        }
        if let Some(lists) = self.compiled.get(&(allow, deny)) {
            return Some(lists.clone());
        }
        let lists = Arc::new(IpLists {
            allow: crate::edge::compile_cidrs(allow, &format!("{field}.ip_allow"), problems),
            deny: crate::edge::compile_cidrs(deny, &format!("{field}.ip_deny"), problems),
        });
        self.compiled.insert((allow, deny), lists.clone());
        Some(lists)
    }
}

/// Interns group names to small ids.
#[derive(Default)]
struct GroupTable {
    // foldhash, not SipHash: every consumer's groups are interned here when a snapshot loads.
    ids: foldhash::HashMap<Box<str>, GroupId>,
    names: Vec<Arc<str>>,
}

impl GroupTable {
    fn intern(&mut self, name: &str) -> GroupId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = GroupId::try_from(self.names.len()).expect("fewer than 4 billion groups");
        self.ids.insert(name.into(), id);
        self.names.push(name.into());
        id
    }

    fn intern_all<'n>(&mut self, names: impl Iterator<Item = &'n str>) -> Box<[GroupId]> {
        let mut ids: Vec<GroupId> = names.map(|name| self.intern(name)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into()
    }
}

#[cfg(test)]
mod tests;
