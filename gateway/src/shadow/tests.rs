use super::*;
use crate::access::MethodSet;

fn rule(policy: &str, groups: &[u32], methods: &[&str]) -> Rule {
    Rule {
        policy: policy.into(),
        groups: groups.into(),
        versions: None,
        methods: MethodSet::parse(methods.iter().copied()).unwrap(),
        operations: None,
        plan: 0,
    }
}

fn request<'a>(groups: &'a [u32], method: &str) -> AccessRequest<'a> {
    AccessRequest {
        groups,
        version: None,
        method: MethodSet::bit(method),
        operation: None,
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
        shadow.would_refuse(0, &request(&[1], "POST")).map(|policy| &**policy),
        Some("partners-read")
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
