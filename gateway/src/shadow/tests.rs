use super::*;
use crate::access::{ClientAddress, MethodSet};
use crate::edge::cidr::{CidrSet, IpLists};

fn rule(policy: &str, groups: &[u32], methods: &[&str]) -> Rule {
    Rule {
        policy: policy.into(),
        groups: groups.into(),
        versions: None,
        methods: MethodSet::parse(methods.iter().copied()).unwrap(),
        operations: None,
        plan: 0,
        ip: None,
    }
}

fn request<'a>(groups: &'a [u32], method: &str) -> AccessRequest<'a> {
    AccessRequest {
        groups,
        version: None,
        method: MethodSet::bit(method),
        operation: None,
        client: ClientAddress::Address("127.0.0.1".parse().unwrap()),
    }
}

#[test]
fn a_policy_replacing_a_broader_one_would_refuse_what_only_the_broader_one_allows() {
    let enforced = [rule("partners-all", &[1], &[]), rule("staff", &[2], &[])];
    let replaces = ["partners-all".to_owned()];
    let shadow = ShadowAccess::compile(
        &[&enforced],
        vec![ShadowRule {
            api: 0,
            rule: rule("partners-read", &[1], &["GET"]),
            replaces: &replaces,
        }],
    )
    .expect("a shadowed policy that replaces one compiles to a check");
    assert_eq!(shadow.would_refuse(0, &request(&[1], "GET")), None);
    assert_eq!(
        shadow
            .would_refuse(0, &request(&[1], "POST"))
            .map(|(policy, reason)| (&**policy, reason)),
        Some(("partners-read", "access_denied"))
    );
    // Staff keep their own grant: the replaced policy was never theirs.
    assert_eq!(shadow.would_refuse(0, &request(&[2], "POST")), None);
    assert_eq!(shadow.policies(), [Arc::from("partners-read")]);
}

#[test]
fn a_policy_that_replaces_nothing_never_refuses() {
    let enforced = [rule("partners-all", &[1], &[])];
    let shadow = ShadowAccess::compile(
        &[&enforced],
        vec![ShadowRule {
            api: 0,
            rule: rule("extra", &[3], &["GET"]),
            replaces: &[],
        }],
    )
    .unwrap();
    assert_eq!(shadow.would_refuse(0, &request(&[1], "POST")), None);
    assert!(
        ShadowAccess::compile(&[&enforced], Vec::new()).is_none(),
        "off without shadow rules"
    );
}

#[test]
fn the_header_names_each_rule() {
    let refusals = ShadowRefusals {
        policy: Some(ShadowRefusal {
            kind: RuleKind::Policy,
            rule: "partners-read".into(),
            reason: "access_denied",
        }),
        plan: Some(ShadowRefusal {
            kind: RuleKind::Plan,
            rule: "standard".into(),
            reason: "rate_limited",
        }),
    };
    assert_eq!(
        refusals.header_value(),
        "policy=partners-read; rule=access_denied, plan=standard; rule=rate_limited"
    );
}

#[test]
fn a_shadowed_policy_with_ip_lists_would_refuse_other_addresses_by_its_own_rule() {
    let enforced = [rule("partners-all", &[1], &[])];
    let (office, _) = CidrSet::parse(&["10.0.0.0/8".to_owned()]);
    let replaces = ["partners-all".to_owned()];
    let shadow = ShadowAccess::compile(
        &[&enforced],
        vec![ShadowRule {
            api: 0,
            rule: Rule {
                ip: Some(Arc::new(IpLists {
                    allow: office,
                    deny: CidrSet::default(),
                })),
                ..rule("partners-office", &[1], &[])
            },
            replaces: &replaces,
        }],
    )
    .unwrap();
    let from = |address: &str| AccessRequest {
        client: ClientAddress::Address(address.parse().unwrap()),
        ..request(&[1], "GET")
    };
    // Evaluated for the very address the enforced rules were: inside the list, nothing to record.
    assert_eq!(shadow.would_refuse(0, &from("10.1.1.1")), None);
    assert_eq!(
        shadow
            .would_refuse(0, &from("203.0.113.9"))
            .map(|(policy, reason)| (&**policy, reason)),
        Some(("partners-office", "policy_ip_denied"))
    );
}
