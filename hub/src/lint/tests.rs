use super::*;

#[test]
fn rule_ids_are_unique_and_kebab_case() {
    for (position, rule) in RULES.iter().enumerate() {
        assert!(
            rule.id.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'-'),
            "{}",
            rule.id
        );
        assert!(
            RULES[..position].iter().all(|earlier| earlier.id != rule.id),
            "{} is listed twice",
            rule.id
        );
        assert!(!rule.summary.is_empty() && !rule.hint.is_empty(), "{}", rule.id);
    }
}

#[test]
fn problems_keep_their_rule_and_place() {
    let location = Location {
        file: "a.yaml".into(),
        line: 3,
        column: 5,
    };
    let problem = |rule: &'static str, field: &str| Problem {
        rule,
        location: location.clone(),
        field: field.into(),
        message: "must start with `/`".into(),
    };
    let finding = from_problem(problem("invalid-value", "spec.route.path_prefix")).unwrap();
    assert_eq!((finding.rule, finding.severity), ("invalid-value", Severity::Error));
    assert_eq!(finding.location, location);
    assert!(finding.message.starts_with("`spec.route.path_prefix`"), "{finding:?}");
    assert!(
        from_problem(problem("openapi-invalid", "spec.versions[0].openapi")).is_none(),
        "the linter checks OpenAPI documents itself"
    );
    let operation = from_problem(problem("openapi-invalid", "spec.apis[0].operations[0]")).unwrap();
    assert_eq!(operation.rule, "invalid-value");
    let future = from_problem(problem("something-new", "")).unwrap();
    assert_eq!((future.rule, future.severity), ("something-new", Severity::Error));
}

#[test]
fn failing_depends_on_severity() {
    let at = |severity| Finding {
        rule: "api-not-granted",
        severity,
        location: Location {
            file: "a.yaml".into(),
            line: 1,
            column: 1,
        },
        message: String::new(),
        hint: String::new(),
    };
    assert!(!fails(&[], true));
    assert!(fails(&[at(Severity::Error)], false));
    assert!(!fails(&[at(Severity::Warning)], false));
    assert!(fails(&[at(Severity::Warning)], true));
    assert!(!fails(&[at(Severity::Note)], true));
}
