//! Step 3, authorize: the caller's groups must hold an access rule for this API (and version)
//! that allows this method (and operation, where rules name operations). The rule itself is
//! `access::evaluate`; this step gathers its inputs and words the refusal.

use http::Request;
use hyper::body::Incoming;

use super::{Caller, Routed};
use crate::access::{AccessRequest, Decision, Denial, MethodSet, evaluate};
use crate::compiled::{CompiledApi, CompiledSnapshot, CompiledVersion};
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
/// decision, and the grant or the refusal.
pub(super) fn authorize(
    snapshot: &CompiledSnapshot,
    api: &CompiledApi,
    routed: &Routed,
    caller: &Caller,
    request: &Request<Incoming>,
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
    };
    let mut decision = decide(snapshot, api, version, caller, request, &access);
    // Shadow: a shadowed policy that would refuse what the enforced rules allow is recorded.
    if let (Ok(grant), Some(shadow)) = (&mut decision, &snapshot.shadow) {
        grant.shadow_policy = shadow.would_refuse(routed.api, &access).map(|policy| ShadowRefusal {
            kind: RuleKind::Policy,
            rule: policy.clone(),
            reason: "access_denied",
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
            };
            Err(Refusal::AccessDenied { detail })
        }
    }
}
