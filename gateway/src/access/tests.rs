use super::*;
use crate::edge::cidr::CidrSet;

fn rule(
    groups: &[GroupId],
    versions: Option<&[usize]>,
    methods: &[&str],
    operations: Option<&[&str]>,
    plan: usize,
) -> Rule {
    Rule {
        policy: "p".into(),
        groups: groups.into(),
        versions: versions.map(Into::into),
        methods: MethodSet::parse(methods.iter().copied()).unwrap(),
        operations: operations.map(|operations| operations.iter().map(|operation| Arc::from(*operation)).collect()),
        plan,
        ip: None,
    }
}

/// A rule of policy `policy` for every version and method, with IP lists.
fn restricted(policy: &str, groups: &[GroupId], allow: &[&str], deny: &[&str], plan: usize) -> Rule {
    let list = |entries: &[&str]| {
        let (set, problems) = CidrSet::parse(&entries.iter().map(|entry| entry.to_string()).collect::<Vec<_>>());
        assert!(problems.is_empty(), "{problems:?}");
        set
    };
    Rule {
        policy: policy.into(),
        ip: Some(Arc::new(IpLists {
            allow: list(allow),
            deny: list(deny),
        })),
        ..rule(groups, None, &[], None, plan)
    }
}

fn from(groups: &[GroupId], client: ClientAddress) -> AccessRequest<'_> {
    AccessRequest {
        groups,
        version: None,
        method: MethodSet::bit("GET"),
        operation: None,
        client,
    }
}

fn at(address: &str) -> ClientAddress {
    ClientAddress::Address(address.parse().unwrap())
}

fn check(
    rules: &[Rule],
    groups: &[GroupId],
    version: Option<usize>,
    method: &str,
    operation: Option<&str>,
    expected: Decision,
) {
    let request = AccessRequest {
        groups,
        version,
        method: MethodSet::bit(method),
        operation,
        client: ClientAddress::Address("127.0.0.1".parse().unwrap()),
    };
    assert_eq!(
        evaluate(rules, &request),
        expected,
        "{groups:?} {version:?} {method} {operation:?}"
    );
}

#[test]
fn the_first_matching_rule_grants_with_its_plan() {
    let rules = [rule(&[1], None, &["GET"], None, 7), rule(&[1, 2], None, &[], None, 8)];
    check(&rules, &[1], None, "GET", None, Decision::Allowed { rule: 0, plan: 7 });
    check(
        &rules,
        &[1],
        None,
        "DELETE",
        None,
        Decision::Allowed { rule: 1, plan: 8 },
    );
    check(
        &rules,
        &[0, 2, 9],
        None,
        "PATCH",
        None,
        Decision::Allowed { rule: 1, plan: 8 },
    );
    check(&rules, &[3], None, "GET", None, Decision::Denied(Denial::NoGrant));
    check(&rules, &[], None, "GET", None, Decision::Denied(Denial::NoGrant));
}

#[test]
fn the_closest_miss_explains_the_denial() {
    let rules = [rule(&[1], Some(&[0]), &["GET"], Some(&["listPets"]), 0)];
    check(
        &rules,
        &[1],
        Some(1),
        "GET",
        Some("listPets"),
        Decision::Denied(Denial::VersionNotGranted),
    );
    check(
        &rules,
        &[1],
        Some(0),
        "DELETE",
        Some("listPets"),
        Decision::Denied(Denial::MethodNotGranted),
    );
    check(
        &rules,
        &[1],
        Some(0),
        "GET",
        Some("getPet"),
        Decision::Denied(Denial::OperationNotGranted),
    );
    check(
        &rules,
        &[1],
        Some(0),
        "GET",
        None,
        Decision::Denied(Denial::OperationNotGranted),
    );
    check(
        &rules,
        &[1],
        Some(0),
        "GET",
        Some("listPets"),
        Decision::Allowed { rule: 0, plan: 0 },
    );
    check(
        &rules,
        &[1],
        None,
        "GET",
        Some("listPets"),
        Decision::Denied(Denial::VersionNotGranted),
    );
}

#[test]
fn unknown_methods_are_granted_only_by_rules_without_methods() {
    assert_eq!(MethodSet::parse(["GET", "TRACE"]), Err("TRACE"));
    let rules = [rule(&[1], None, &["GET", "POST"], None, 0)];
    check(
        &rules,
        &[1],
        None,
        "TRACE",
        None,
        Decision::Denied(Denial::MethodNotGranted),
    );
    let open = [rule(&[1], None, &[], None, 0)];
    check(&open, &[1], None, "TRACE", None, Decision::Allowed { rule: 0, plan: 0 });
}

#[test]
fn granting_lists_the_rules_for_the_groups_and_version() {
    let rules = [
        rule(&[1], Some(&[0]), &["GET"], None, 0),
        rule(&[2, 3], None, &[], None, 1),
        rule(&[3], Some(&[1]), &["DELETE"], None, 2),
    ];
    let plans = |groups: &[GroupId], version| {
        granting(&rules, groups, version)
            .map(|rule| rule.plan)
            .collect::<Vec<_>>()
    };
    assert_eq!(plans(&[1], None), [0]);
    assert_eq!(plans(&[1], Some(1)), Vec::<usize>::new());
    assert_eq!(plans(&[3], Some(1)), [1, 2]);
    assert_eq!(plans(&[3], Some(0)), [1]);
    assert_eq!(plans(&[4], None), Vec::<usize>::new());
}

#[test]
fn a_rule_grants_only_to_addresses_its_policy_lists_take() {
    let rules = [restricted(
        "partners",
        &[1],
        &["10.0.0.0/8", "2001:db8::/32"],
        &["10.9.0.0/16"],
        3,
    )];
    let check = |client, expected| assert_eq!(evaluate(&rules, &from(&[1], client)), expected, "{client:?}");
    let allowed = Decision::Allowed { rule: 0, plan: 3 };
    let refused = |list| Decision::Denied(Denial::AddressRefused { rule: 0, list });
    check(at("10.1.2.3"), allowed);
    check(at("2001:db8::7"), allowed);
    // A dual-stack listener's IPv4-mapped view of an IPv4 client is that client.
    check(at("::ffff:10.1.2.3"), allowed);
    check(at("203.0.113.9"), refused(IpList::Allow));
    // The deny list wins inside the allow list.
    check(at("10.9.1.1"), refused(IpList::Deny));
    // An address that could not be worked out is refused; the hub's views ask for any address.
    check(ClientAddress::Unknown, refused(IpList::Allow));
    check(ClientAddress::Any, allowed);
    // Other groups are not granted at all: the address is no part of their answer.
    assert_eq!(
        evaluate(&rules, &from(&[2], at("203.0.113.9"))),
        Decision::Denied(Denial::NoGrant)
    );
    let deny_only = [restricted("no-lab", &[1], &[], &["192.0.2.0/24"], 0)];
    assert_eq!(
        evaluate(&deny_only, &from(&[1], at("192.0.2.1"))),
        Decision::Denied(Denial::AddressRefused {
            rule: 0,
            list: IpList::Deny
        })
    );
    assert_eq!(
        evaluate(&deny_only, &from(&[1], at("198.51.100.1"))),
        Decision::Allowed { rule: 0, plan: 0 }
    );
    assert_eq!(
        evaluate(&deny_only, &from(&[1], ClientAddress::Unknown)),
        Decision::Denied(Denial::AddressRefused {
            rule: 0,
            list: IpList::Deny
        })
    );
}

#[test]
fn another_grant_still_allows_when_one_policy_refuses_the_address() {
    let rules = [
        restricted("office", &[1], &["10.0.0.0/8"], &[], 0),
        rule(&[1], None, &["GET"], None, 5),
    ];
    assert_eq!(
        evaluate(&rules, &from(&[1], at("10.0.0.1"))),
        Decision::Allowed { rule: 0, plan: 0 }
    );
    // From elsewhere the unrestricted grant answers, under its own plan.
    assert_eq!(
        evaluate(&rules, &from(&[1], at("203.0.113.9"))),
        Decision::Allowed { rule: 1, plan: 5 }
    );
}

#[test]
fn a_refused_address_is_the_closest_miss_and_names_the_first_policy_refusing_it() {
    let rules = [
        rule(&[1], Some(&[0]), &[], None, 0),
        restricted("office", &[1], &["10.0.0.0/8"], &[], 1),
        restricted("lab", &[1], &["192.168.0.0/16"], &[], 2),
    ];
    let request = AccessRequest {
        version: Some(1),
        ..from(&[1], at("203.0.113.9"))
    };
    assert_eq!(
        evaluate(&rules, &request),
        Decision::Denied(Denial::AddressRefused {
            rule: 1,
            list: IpList::Allow
        })
    );
    assert_eq!(
        Denial::AddressRefused {
            rule: 1,
            list: IpList::Allow
        }
        .refusal_rule(),
        "policy_ip_denied"
    );
    assert_eq!(Denial::MethodNotGranted.refusal_rule(), "access_denied");
    // A rule that fails on the method first is not refused by its address.
    let narrow = [Rule {
        methods: MethodSet::parse(["POST"]).unwrap(),
        ..restricted("office", &[1], &["10.0.0.0/8"], &[], 0)
    }];
    assert_eq!(
        evaluate(&narrow, &from(&[1], at("203.0.113.9"))),
        Decision::Denied(Denial::MethodNotGranted)
    );
}
