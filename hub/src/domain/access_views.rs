//! "Who can call what": the dashboard's two views of access, by API and by user, asked of the
//! gateway's own rule (`gateway::access::evaluate`) over the latest published revision compiled
//! by the gateway's own compiler, so they cannot disagree with what the gateway enforces.
//! Access is asked for an address every IP list takes; where the grant that answers is narrowed
//! by its policy's IP lists, the answer says so, and what the rule gives everywhere else.

use gateway::access::{self, AccessRequest, ClientAddress, Decision, Denial, METHODS, MethodSet, Rule};
use gateway::compiled::{CompiledApi, CompiledSnapshot};
use gateway::edge::cidr::{IpList, IpLists};
use gateway::snapshot::{Snapshot, VersionStatus};

fn status_word(status: VersionStatus) -> &'static str {
    match status {
        VersionStatus::Published => "published",
        VersionStatus::Deprecated => "deprecated",
        VersionStatus::Retired => "retired",
    }
}

use super::objects;
use super::publish;
use crate::error::HubError;
use crate::model::{Revision, User};
use crate::store::Store;

/// The latest revision, compiled the way a gateway compiles it.
pub struct Enforced {
    pub revision: Revision,
    pub snapshot: Snapshot,
    pub compiled: CompiledSnapshot,
}

/// The latest published revision, compiled; `None` before the first publish.
pub async fn enforced(store: &Store) -> Result<Option<Enforced>, HubError> {
    let Some((revision, snapshot)) = publish::latest(store).await? else {
        return Ok(None);
    };
    let compiled = CompiledSnapshot::compile(&snapshot, None).map_err(|error| HubError::Conflict {
        detail: format!("revision {} does not compile: {error}", revision.number),
    })?;
    Ok(Some(Enforced {
        revision,
        snapshot,
        compiled,
    }))
}

/// One method's answer.
#[derive(Debug, Clone)]
pub struct MethodAccess {
    pub method: &'static str,
    /// The plan calls are counted against, when allowed.
    pub plan: Option<String>,
    /// Why not, when refused.
    pub denial: Option<&'static str>,
    /// When allowed only from some addresses: from which, by which policy, and what every other
    /// address gets (`only from 10.0.0.0/8 (policy `partners`); elsewhere refused`).
    pub restriction: Option<String>,
}

/// One operation's answer, for versions whose rules name operations.
#[derive(Debug, Clone)]
pub struct OperationAccess {
    pub id: String,
    pub method: String,
    pub path: String,
    pub plan: Option<String>,
    /// As [`MethodAccess::restriction`].
    pub restriction: Option<String>,
}

/// One version's answers (`version` is `None` for an API without versions).
#[derive(Debug, Clone)]
pub struct VersionAccess {
    pub version: Option<String>,
    /// `draft`, `published`, `deprecated` or `retired`.
    pub status: Option<String>,
    pub methods: Vec<MethodAccess>,
    /// Listed only when some rule for these groups names operations.
    pub operations: Vec<OperationAccess>,
}

impl VersionAccess {
    /// Whether any method or operation is allowed.
    pub fn any_allowed(&self) -> bool {
        self.methods.iter().any(|method| method.plan.is_some()) || self.operations.iter().any(|op| op.plan.is_some())
    }

    /// Each distinct restriction of the methods, with the methods it narrows (`GET, HEAD`).
    pub fn restrictions(&self) -> Vec<(String, &str)> {
        let mut found: Vec<(String, &str)> = Vec::new();
        for method in &self.methods {
            let Some(restriction) = &method.restriction else {
                continue;
            };
            match found.iter_mut().find(|(_, text)| *text == restriction.as_str()) {
                Some((methods, _)) => {
                    methods.push_str(", ");
                    methods.push_str(method.method);
                }
                None => found.push((method.method.to_owned(), restriction)),
            }
        }
        found
    }
}

/// One API's answers for one set of groups.
#[derive(Debug, Clone)]
pub struct ApiAccess {
    pub api: String,
    pub versions: Vec<VersionAccess>,
}

impl ApiAccess {
    pub fn any_allowed(&self) -> bool {
        self.versions.iter().any(VersionAccess::any_allowed)
    }
}

/// A refusal's reason in words.
pub fn denial_text(denial: Denial) -> &'static str {
    match denial {
        Denial::NoGrant => "no policy grants this API to these groups",
        Denial::VersionNotGranted => "not this version",
        Denial::MethodNotGranted => "not this method",
        Denial::OperationNotGranted => "only some operations",
        Denial::AddressRefused { .. } => "not from this address",
    }
}

/// `only from 10.0.0.0/8 (policy `partners`); elsewhere refused`: where an allowing rule's IP
/// lists narrow it, and what any other address gets (`elsewhere`, evaluated for an address no
/// list takes). `None` for a rule without lists.
fn restriction(rule: &Rule, elsewhere: Decision, plan_name: impl Fn(usize) -> Option<String>) -> Option<String> {
    let ip = rule.ip.as_deref()?;
    let elsewhere = match elsewhere {
        Decision::Allowed { plan, .. } => match plan_name(plan) {
            Some(plan) => format!("elsewhere plan `{plan}`"),
            None => "elsewhere allowed".to_owned(),
        },
        Decision::Denied(_) => "elsewhere refused".to_owned(),
    };
    Some(format!("{} (policy `{}`); {elsewhere}", ip_text(ip), rule.policy))
}

/// `only from 10.0.0.0/8, not from 10.9.0.0/16`: an access policy's IP lists in words.
pub fn ip_text(ip: &IpLists) -> String {
    let mut parts = Vec::new();
    if !ip.allow.is_empty() {
        parts.push(format!("only from {}", ip.describe(IpList::Allow)));
    }
    if !ip.deny.is_empty() {
        parts.push(format!("not from {}", ip.describe(IpList::Deny)));
    }
    parts.join(", ")
}

/// What these groups may call of one API, version by version and method by method.
pub fn api_access(enforced: &Enforced, compiled: &CompiledApi, groups: &[String]) -> ApiAccess {
    access_in(&enforced.snapshot, &enforced.compiled, compiled, groups)
}

/// [`api_access`] over any snapshot and its compiled form, published or not: what the impact
/// report compares before and after a change.
pub fn access_in(
    snapshot: &Snapshot,
    compiled_snapshot: &CompiledSnapshot,
    compiled: &CompiledApi,
    groups: &[String],
) -> ApiAccess {
    let ids = compiled_snapshot.group_ids(groups.iter().map(String::as_str));
    let plan_name = |plan: usize| compiled_snapshot.plans.get(plan).map(|plan| plan.name.clone());
    let spec = snapshot.apis.iter().find(|spec| spec.name == *compiled.name);
    let version_count = compiled.versions.len();
    let choices: Vec<Option<usize>> = if version_count == 0 {
        vec![None]
    } else {
        (0..version_count).map(Some).collect()
    };
    let versions = choices
        .into_iter()
        .map(|version| {
            let ask_from = |client, method: &str, operation: Option<&str>| {
                access::evaluate(
                    &compiled.rules,
                    &AccessRequest {
                        groups: &ids,
                        version,
                        method: MethodSet::bit(method),
                        operation,
                        client,
                    },
                )
            };
            // Allowed from some address, and the restriction when the allowing rule has one.
            let ask = |method: &str, operation: Option<&str>| {
                let decision = ask_from(ClientAddress::Any, method, operation);
                let restriction = match decision {
                    Decision::Allowed { rule, .. } => restriction(
                        &compiled.rules[rule],
                        ask_from(ClientAddress::Unknown, method, operation),
                        plan_name,
                    ),
                    Decision::Denied(_) => None,
                };
                (decision, restriction)
            };
            let methods = METHODS
                .iter()
                .map(|method| match ask(method, None) {
                    (Decision::Allowed { plan, .. }, restriction) => MethodAccess {
                        method,
                        plan: plan_name(plan),
                        denial: None,
                        restriction,
                    },
                    (Decision::Denied(denial), _) => MethodAccess {
                        method,
                        plan: None,
                        denial: Some(denial_text(denial)),
                        restriction: None,
                    },
                })
                .collect();
            let names_operations = compiled.names_operations
                && access::granting(&compiled.rules, &ids, version).any(|rule| rule.operations.is_some());
            let operations = match (names_operations, version, spec) {
                (true, Some(index), Some(spec)) => spec.versions[index]
                    .operations
                    .iter()
                    .map(|operation| {
                        let (decision, restriction) = ask(&operation.method, Some(&operation.id));
                        OperationAccess {
                            id: operation.id.clone(),
                            method: operation.method.clone(),
                            path: operation.path.clone(),
                            plan: match decision {
                                Decision::Allowed { plan, .. } => plan_name(plan),
                                Decision::Denied(_) => None,
                            },
                            restriction,
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            VersionAccess {
                version: version.map(|index| compiled.versions[index].name.to_string()),
                status: version.map(|index| status_word(compiled.versions[index].status).to_owned()),
                methods,
                operations,
            }
        })
        .collect();
    ApiAccess {
        api: compiled.name.to_string(),
        versions,
    }
}

/// The groups the gateway knows a user by: those of the user's consumers (keys) in the
/// revision, which is what a key's call is checked with; the hub's current groups when the
/// revision holds no key of theirs (a JWT's groups come from its claim, named alike).
pub fn enforced_groups(enforced: &Enforced, user: &User) -> (Vec<String>, bool) {
    let mut from_keys: Vec<String> = enforced
        .snapshot
        .consumers
        .iter()
        .filter(|consumer| consumer.user == user.name)
        .flat_map(|consumer| consumer.groups.iter().cloned())
        .collect();
    if from_keys.is_empty()
        && !enforced
            .snapshot
            .consumers
            .iter()
            .any(|consumer| consumer.user == user.name)
    {
        // A disabled user is refused whatever their credential; until a publish drops their
        // keys, the keys above still answer for them.
        let groups = if user.disabled { Vec::new() } else { user.groups.clone() };
        return (groups, false);
    }
    from_keys.sort();
    from_keys.dedup();
    (from_keys, true)
}

/// The by-user view: every API of the revision with what this user may call of it.
pub struct UserView {
    pub revision: i64,
    pub groups: Vec<String>,
    /// Whether the groups are those of the user's keys in the revision.
    pub groups_from_keys: bool,
    /// A disabled user's keys are not in a revision published after disabling.
    pub disabled: bool,
    pub apis: Vec<ApiAccess>,
}

pub async fn by_user(store: &Store, name: &str) -> Result<Option<UserView>, HubError> {
    let user = objects::get::<User>(store, name).await?.object;
    let Some(enforced) = enforced(store).await? else {
        return Ok(None);
    };
    let (groups, groups_from_keys) = enforced_groups(&enforced, &user);
    let apis = enforced
        .compiled
        .apis
        .iter()
        .map(|compiled| api_access(&enforced, compiled, &groups))
        .collect();
    Ok(Some(UserView {
        revision: enforced.revision.number,
        groups,
        groups_from_keys,
        disabled: user.disabled,
        apis,
    }))
}

/// One row of the by-API view: a group, or a user with the groups they are checked with.
pub struct Holder {
    pub name: String,
    pub groups: Vec<String>,
    pub disabled: bool,
    pub access: ApiAccess,
}

/// The by-API view: which groups and users may call it, with which methods, under which plan.
pub struct ApiView {
    pub revision: i64,
    pub groups: Vec<Holder>,
    pub users: Vec<Holder>,
}

pub async fn by_api(store: &Store, api: &str) -> Result<Option<ApiView>, HubError> {
    let Some(enforced) = enforced(store).await? else {
        return Ok(None);
    };
    let Some(compiled) = enforced.compiled.apis.iter().find(|compiled| &*compiled.name == api) else {
        return Err(HubError::NotFound {
            kind: "API",
            key: format!("{api} (in revision {})", enforced.revision.number),
        });
    };
    let mut group_names: Vec<String> = enforced
        .snapshot
        .access_rules
        .iter()
        .filter(|rule| rule.api == api)
        .flat_map(|rule| rule.groups.iter().cloned())
        .collect();
    group_names.sort();
    group_names.dedup();
    let groups = group_names
        .iter()
        .map(|group| Holder {
            name: group.clone(),
            groups: vec![group.clone()],
            disabled: false,
            access: api_access(&enforced, compiled, std::slice::from_ref(group)),
        })
        .filter(|holder| holder.access.any_allowed())
        .collect();
    let users = objects::all::<User>(store)
        .await?
        .into_iter()
        .filter_map(|user| {
            let (groups, _) = enforced_groups(&enforced, &user);
            let access = api_access(&enforced, compiled, &groups);
            access.any_allowed().then(|| Holder {
                name: user.name.clone(),
                groups,
                disabled: user.disabled,
                access,
            })
        })
        .collect();
    Ok(Some(ApiView {
        revision: enforced.revision.number,
        groups,
        users,
    }))
}
