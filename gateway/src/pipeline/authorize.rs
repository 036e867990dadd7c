//! Step 3, authorize: the caller's groups must hold an access rule for this API (and version)
//! that allows this method (and operation, where rules name operations), and whose access
//! policy's IP lists take the client address the edge step worked out. The rule itself is
//! `access::evaluate`; this step gathers its inputs and words the refusal.

use http::Request;
use hyper::body::Incoming;

use super::{Caller, Routed};
use crate::access::{AccessRequest, ClientAddress, Decision, Denial, MethodSet, Rule, evaluate};
use crate::compiled::{CompiledApi, CompiledSnapshot, CompiledVersion};
use crate::edge::cidr::IpList;
use crate::refusal::Refusal;
use crate::shadow::{RuleKind, ShadowRefusal};

/// The rule that allowed a request.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub plan: usize,
    /// The shadowed access policy that would have refused the request (`shadow`).
    pub shadow_policy: Option<crate::shadow::ShadowRefusal>,
}

/// Returns the index of the operation the request matched, for the metrics whatever the
/// decision, and the grant or the refusal. `client` is `EdgeContext::client`.
pub(super) fn authorize(
    snapshot: &CompiledSnapshot,
    api: &CompiledApi,
    routed: &Routed,
    caller: &Caller,
    request: &Request<Incoming>,
    client: ClientAddress,
) -> (Option<usize>, Result<Grant, Refusal>) {
    let method = MethodSet::bit(request.method().as_str());
    let version = routed.version.map(|index| &api.versions[index]);
    // Looked up for every version that has operations, for the metrics, even where no rule names one.
    let matched = version.and_then(|version| {
        let rest = &request.uri().path()[routed.prefix_len + routed.segment_len..];
        version.operation_index(method, if rest.is_empty() { "/" } else { rest })
    });
    let operation = match (version, matched) {
        (Some(version), Some(index)) if api.names_operations => Some(&*version.operations[index].id),
        _ => None,
    };
    let access = AccessRequest {
        groups: &caller.groups,
        version: routed.version,
        method,
        operation,
        client,
    };
    let mut decision = decide(snapshot, api, version, caller, request, &access);
    // Shadow: a shadowed policy that would refuse what the enforced rules allow is recorded.
    if let (Ok(grant), Some(shadow)) = (&mut decision, &snapshot.shadow) {
        grant.shadow_policy = shadow
            .would_refuse(routed.api, &access)
            .map(|(policy, reason)| ShadowRefusal {
                kind: RuleKind::Policy,
                rule: policy.clone(),
                reason,
            });
    }
    (matched, decision)
}

/// The rule's answer, and the refusal worded for the caller when it denies.
fn decide(
    snapshot: &CompiledSnapshot,
    api: &CompiledApi,
    version: Option<&CompiledVersion>,
    caller: &Caller,
    request: &Request<Incoming>,
    access: &AccessRequest<'_>,
) -> Result<Grant, Refusal> {
    let operation = access.operation;
    match evaluate(&api.rules, access) {
        Decision::Allowed { plan, .. } => Ok(Grant {
            plan,
            shadow_policy: None,
        }),
        Decision::Denied(denial) => {
            let groups: Vec<&str> = caller
                .groups
                .iter()
                .map(|id| &*snapshot.group_names[*id as usize])
                .collect();
            let who = match groups.as_slice() {
                [] => format!("user `{}` (in no group known here)", caller.user),
                [one] => format!("group `{one}`"),
                many => format!("groups `{}`", many.join("`, `")),
            };
            let target = match version {
                Some(version) => format!("{} {}", api.name, version.name),
                None => api.name.to_string(),
            };
            let method = request.method();
            let detail = match denial {
                Denial::NoGrant => format!("no access policy grants API `{}` to {who}", api.name),
                Denial::VersionNotGranted => format!("{who} may not use {target}"),
                Denial::MethodNotGranted => format!("{who} may not {method} on {target}"),
                Denial::OperationNotGranted => match operation {
                    Some(operation) => format!("{who} may not call operation `{operation}` on {target}"),
                    None => format!("{who} may only call named operations on {target}, and this request matches none"),
                },
                Denial::AddressRefused { rule, list } => {
                    return Err(Refusal::PolicyIpDenied {
                        detail: address_refused(&api.rules[rule], &api.name, list, access.client),
                    });
                }
            };
            Err(Refusal::AccessDenied { detail })
        }
    }
}

/// `policy `partners` allows API `pets` only from 10.0.0.0/8 (its ip_allow list); 203.0.113.9 is
/// outside it`: the policy, the API, the list and the address.
fn address_refused(rule: &Rule, api: &str, list: IpList, client: ClientAddress) -> String {
    let policy = &rule.policy;
    let Some(ip) = rule.ip.as_deref() else {
        return format!("policy `{policy}` does not allow API `{api}` from this address");
    };
    let networks = ip.describe(list);
    let allows = match list {
        IpList::Allow => format!("only from {networks} (its ip_allow list)"),
        IpList::Deny => format!("except from {networks} (its ip_deny list)"),
    };
    let address = match client {
        ClientAddress::Address(address) => address,
        ClientAddress::Unknown | ClientAddress::Any => {
            return format!(
                "policy `{policy}` allows API `{api}` {allows}; the client address is unknown (an X-Forwarded-For hop could not be read)"
            );
        }
    };
    // The deny list's network that holds the address: a long list is shown only in part.
    let verdict = match (list, ip.deny.containing(address)) {
        (IpList::Deny, Some(network)) => format!("{address} is in {network}"),
        (IpList::Deny, None) => format!("{address} is inside it"),
        (IpList::Allow, _) => format!("{address} is outside it"),
    };
    format!("policy `{policy}` allows API `{api}` {allows}; {verdict}")
}
