use super::*;

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
    }
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
