//! An access policy: grants groups the use of APIs (optionally only some versions, HTTP methods
//! or operations), under a plan.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Api, ApiVersion, Group, Kind, ObjectRef, Plan, Reference, RuleMode};
use crate::validate::{Checker, FieldError, MAX_TEXT_LEN};

/// Who may call what, under which plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessPolicy {
    /// Unique, immutable name (a slug).
    #[schema(example = "partners-petstore")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The groups granted access.
    pub groups: Vec<String>,
    /// What they are granted.
    pub apis: Vec<ApiGrant>,
    /// The plan their calls count against.
    pub plan: String,
    /// `shadow`: evaluated at the gateways as if enforced, recording what it would refuse,
    /// refusing nothing (see `docs/SNAPSHOT.md`, Shadow mode).
    #[serde(default, skip_serializing_if = "RuleMode::is_enforce")]
    pub mode: RuleMode,
    /// Access policies this one replaces: once it is enforced their grants are left out of the
    /// snapshot; shadowed, it is evaluated as if they were gone. How a new policy narrows access.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
    /// CIDRs (IPv4 or IPv6) a caller's address must be in for this policy's grants to apply;
    /// empty allows every address. Behind proxies the client address is the one the API's
    /// `edge.trusted_proxies` forward.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_allow: Vec<String>,
    /// CIDRs this policy's grants never apply to, even inside `ip_allow`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_deny: Vec<String>,
}

/// The use of one API, narrowed by versions, methods and operations; an empty list allows all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiGrant {
    pub api: String,
    /// Version names; empty grants every version.
    #[serde(default)]
    pub versions: Vec<String>,
    /// HTTP methods; empty grants every method.
    #[serde(default)]
    pub methods: Vec<HttpMethod>,
    /// OpenAPI operation ids; empty grants every operation.
    #[serde(default)]
    pub operations: Vec<String>,
}

/// An HTTP method an access policy can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl Kind for AccessPolicy {
    const KIND: &'static str = "access_policy";
    const LABEL: &'static str = "access policy";
    type Input = AccessPolicy;
    type View = AccessPolicy;

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(policy: AccessPolicy, _previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &policy.name);
        checker.text("description", &policy.description, MAX_TEXT_LEN);
        checker.ensure(!policy.groups.is_empty(), "groups", "must list at least one group");
        for (index, group) in policy.groups.iter().enumerate() {
            checker.name(&format!("groups[{index}]"), group);
        }
        checker.unique("groups", policy.groups.iter().map(String::as_str));
        checker.ensure(!policy.apis.is_empty(), "apis", "must grant at least one API");
        for (index, grant) in policy.apis.iter().enumerate() {
            checker.name(&format!("apis[{index}].api"), &grant.api);
            for (version_index, version) in grant.versions.iter().enumerate() {
                checker.name(&format!("apis[{index}].versions[{version_index}]"), version);
            }
            checker.unique(
                &format!("apis[{index}].versions"),
                grant.versions.iter().map(String::as_str),
            );
            for (operation_index, operation) in grant.operations.iter().enumerate() {
                let field = format!("apis[{index}].operations[{operation_index}]");
                checker.ensure(
                    !operation.is_empty() && operation.len() <= 128 && operation.bytes().all(|b| b.is_ascii_graphic()),
                    field,
                    "must be an OpenAPI operation id: 1 to 128 printable ASCII characters",
                );
            }
        }
        checker.unique("apis", policy.apis.iter().map(|grant| grant.api.as_str()));
        checker.name("plan", &policy.plan);
        for (index, replaced) in policy.replaces.iter().enumerate() {
            checker.name(&format!("replaces[{index}]"), replaced);
            checker.ensure(
                *replaced != policy.name,
                format!("replaces[{index}]"),
                "a policy cannot replace itself",
            );
        }
        checker.unique("replaces", policy.replaces.iter().map(String::as_str));
        for (field, entries) in [("ip_allow", &policy.ip_allow), ("ip_deny", &policy.ip_deny)] {
            check_cidrs(&mut checker, field, entries);
        }
        checker.finish().map(|()| policy)
    }

    fn view(&self) -> AccessPolicy {
        self.clone()
    }

    fn references(&self) -> Vec<Reference> {
        let mut references = Vec::new();
        for (index, group) in self.groups.iter().enumerate() {
            references.push(Reference::to(format!("groups[{index}]"), Group::KIND, group));
        }
        for (index, grant) in self.apis.iter().enumerate() {
            references.push(Reference::to(format!("apis[{index}].api"), Api::KIND, &grant.api));
            for (version_index, version) in grant.versions.iter().enumerate() {
                let key = ApiVersion::key_of(&grant.api, version);
                let field = format!("apis[{index}].versions[{version_index}]");
                references.push(Reference::to(field, ApiVersion::KIND, key));
            }
        }
        references.push(Reference::to("plan", Plan::KIND, &self.plan));
        for (index, replaced) in self.replaces.iter().enumerate() {
            references.push(Reference::to(
                format!("replaces[{index}]"),
                AccessPolicy::KIND,
                replaced,
            ));
        }
        references
    }

    fn search_text(&self) -> String {
        self.description.clone()
    }

    /// Detaching only ever narrows what the policy grants: a group leaves it, an API's grant
    /// goes, and a grant whose last listed version goes is removed rather than widened to all
    /// versions. The plan cannot be detached.
    fn detach(&mut self, target: &ObjectRef) -> bool {
        match target.kind {
            kind if kind == Group::KIND => self.groups.retain(|group| *group != target.key),
            kind if kind == Api::KIND => self.apis.retain(|grant| grant.api != target.key),
            // A replaced policy that is gone has nothing left to replace.
            kind if kind == AccessPolicy::KIND => self.replaces.retain(|replaced| *replaced != target.key),
            kind if kind == ApiVersion::KIND => self.apis.retain_mut(|grant| {
                let before = grant.versions.len();
                grant
                    .versions
                    .retain(|version| ApiVersion::key_of(&grant.api, version) != target.key);
                !(before > 0 && grant.versions.is_empty())
            }),
            _ => return false,
        }
        true
    }
}

/// An IP list: at most the gateway's number of networks, each one it parses (the problem names
/// the entry, `ip_allow[2]`), none twice.
fn check_cidrs(checker: &mut Checker, field: &str, entries: &[String]) {
    checker.ensure(
        entries.len() <= gateway::edge::MAX_CIDRS,
        field,
        format!("must list at most {} networks", gateway::edge::MAX_CIDRS),
    );
    for (index, problem) in gateway::edge::check_cidrs(entries) {
        checker.push(format!("{field}[{index}]"), problem);
    }
    checker.unique(field, entries.iter().map(String::as_str));
}
