//! Access evaluation: may these groups call this API version with this method (and
//! operation), from this client address? The one implementation of the rule; the gateway
//! enforces it per request, and the hub's views of "who can call what" ask it too. Pure: no I/O,
//! no clock, and no allocation per request.

use std::net::IpAddr;
use std::sync::Arc;

use crate::edge::cidr::{IpList, IpLists};

/// A group, interned when a snapshot compiles.
pub type GroupId = u32;

/// A set of HTTP methods as bits, so a rule's method check is one AND.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSet(u8);

/// The methods a rule can name, in bit order.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl MethodSet {
    /// Every method, including ones no rule can name.
    pub const ALL: MethodSet = MethodSet(u8::MAX);
    pub const EMPTY: MethodSet = MethodSet(0);

    /// The bit of a method; methods a rule cannot name share the last bit.
    pub fn bit(method: &str) -> MethodSet {
        let index = METHODS
            .iter()
            .position(|known| known.eq_ignore_ascii_case(method))
            .unwrap_or(7);
        MethodSet(1 << index)
    }

    /// The set a rule grants, from method names; `Err` names the unknown one.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<MethodSet, &'a str> {
        let mut set = MethodSet::EMPTY;
        for name in names {
            if !METHODS.contains(&name) {
                return Err(name);
            }
            set.0 |= MethodSet::bit(name).0;
        }
        Ok(if set == MethodSet::EMPTY { MethodSet::ALL } else { set })
    }

    pub fn contains(self, method: MethodSet) -> bool {
        self.0 & method.0 != 0
    }

    /// The methods of both sets.
    pub fn union(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 | other.0)
    }
}

/// One compiled access rule for one API.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The access policy it comes from.
    pub policy: Arc<str>,
    /// Sorted.
    pub groups: Box<[GroupId]>,
    /// Version indexes within the API; `None` grants every version.
    pub versions: Option<Box<[usize]>>,
    pub methods: MethodSet,
    /// Operation ids; `None` grants every operation.
    pub operations: Option<Box<[Arc<str>]>>,
    /// Index of the plan calls are counted against.
    pub plan: usize,
    /// The policy's `ip_allow` and `ip_deny`, shared by its rules; `None` for any address.
    pub ip: Option<Arc<IpLists>>,
}

/// The client address a request is evaluated for, against the rules' IP lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAddress {
    /// The address the gateway worked out (trusted proxies honoured).
    Address(IpAddr),
    /// A forwarded hop that would decide could not be read: every IP list refuses it.
    Unknown,
    /// Any address every list takes: the hub's views and the portal, which ask what groups may
    /// call and say where IP lists narrow it.
    Any,
}

impl ClientAddress {
    /// The gateway's address (`EdgeContext::client`): `None` is an unknown one.
    pub fn from_edge(client: Option<IpAddr>) -> ClientAddress {
        client.map_or(ClientAddress::Unknown, ClientAddress::Address)
    }

    /// The list of `ip` that refuses this address, if any.
    pub fn refused_by(self, ip: &IpLists) -> Option<IpList> {
        match self {
            ClientAddress::Address(address) => ip.refusing(Some(address)),
            ClientAddress::Unknown => ip.refusing(None),
            ClientAddress::Any => None,
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// The caller's groups, sorted.
    pub groups: &'a [GroupId],
    /// The version routed to, if the API has versions.
    pub version: Option<usize>,
    pub method: MethodSet,
    /// The operation matched, if the version lists operations and one matched.
    pub operation: Option<&'a str>,
    pub client: ClientAddress,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The first rule (in snapshot order) that allows the request, and its plan.
    Allowed {
        rule: usize,
        plan: usize,
    },
    Denied(Denial),
}

/// Why no rule allowed a request, from the closest miss: a rule for the caller's groups that
/// failed only on the version, then the method, then the operation, then the client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denial {
    /// No rule grants this API to any of the caller's groups.
    NoGrant,
    /// Rules grant the API to the caller's groups, but not this version.
    VersionNotGranted,
    /// Rules grant this version, but not this method.
    MethodNotGranted,
    /// Rules grant this method, but not this operation (or the request matched no operation).
    OperationNotGranted,
    /// Rules grant the request, but their policies' IP lists refuse the client address: `rule`
    /// is the first such rule, `list` the list that refused.
    AddressRefused { rule: usize, list: IpList },
}

impl Denial {
    /// The rule the gateway's refusal names: `policy_ip_denied` for a refused address,
    /// `access_denied` for every other denial.
    pub fn refusal_rule(self) -> &'static str {
        match self {
            Denial::AddressRefused { .. } => "policy_ip_denied",
            _ => "access_denied",
        }
    }
}

/// Evaluates the rules of one API against a request.
pub fn evaluate(rules: &[Rule], request: &AccessRequest<'_>) -> Decision {
    let mut closest = Denial::NoGrant;
    for (index, rule) in rules.iter().enumerate() {
        if !intersects(&rule.groups, request.groups) {
            continue;
        }
        let version_ok = match (&rule.versions, request.version) {
            (None, _) => true,
            (Some(versions), Some(version)) => versions.contains(&version),
            (Some(_), None) => false,
        };
        if !version_ok {
            closest = closest.max(Denial::VersionNotGranted);
            continue;
        }
        if !rule.methods.contains(request.method) {
            closest = closest.max(Denial::MethodNotGranted);
            continue;
        }
        let operation_ok = match (&rule.operations, request.operation) {
            (None, _) => true,
            (Some(operations), Some(operation)) => operations.iter().any(|granted| &**granted == operation),
            (Some(_), None) => false,
        };
        if !operation_ok {
            closest = closest.max(Denial::OperationNotGranted);
            continue;
        }
        // Last, so that a refused address is only ever the reason when all else was granted.
        if let Some(ip) = &rule.ip
            && let Some(list) = request.client.refused_by(ip)
        {
            // The first rule refused by its lists is the one the refusal names.
            if !matches!(closest, Denial::AddressRefused { .. }) {
                closest = Denial::AddressRefused { rule: index, list };
            }
            continue;
        }
        return Decision::Allowed {
            rule: index,
            plan: rule.plan,
        };
    }
    Decision::Denied(closest)
}

/// The rules that grant these groups something of this API: of this version when one is
/// given, of any version otherwise, from whichever address. What a catalog lists, and under
/// which plan.
pub fn granting<'r>(
    rules: &'r [Rule],
    groups: &'r [GroupId],
    version: Option<usize>,
) -> impl Iterator<Item = &'r Rule> + 'r {
    rules.iter().filter(move |rule| {
        let version_ok = match (&rule.versions, version) {
            (Some(versions), Some(version)) => versions.contains(&version),
            _ => true,
        };
        version_ok && intersects(&rule.groups, groups)
    })
}

/// Whether two sorted slices share an element.
fn intersects(left: &[GroupId], right: &[GroupId]) -> bool {
    let (mut left_index, mut right_index) = (0, 0);
    while left_index < left.len() && right_index < right.len() {
        match left[left_index].cmp(&right[right_index]) {
            std::cmp::Ordering::Less => left_index += 1,
            std::cmp::Ordering::Greater => right_index += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests;
