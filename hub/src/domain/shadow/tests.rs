use super::*;

fn refused(user: &str, requests: u64) -> RefusedUser {
    RefusedUser {
        user: Some(user.to_owned()),
        requests,
    }
}

#[test]
fn the_sentence_names_each_user_and_how_often() {
    assert_eq!(
        sentence(&[refused("alice", 15)]),
        "would have refused alice 15 times in the last hour"
    );
    assert_eq!(
        sentence(&[refused("alice", 1500), refused("bob", 1)]),
        "would have refused alice 1,500 times, bob once in the last hour"
    );
    assert_eq!(sentence(&[]), "would have refused no one in the last hour");
}

#[test]
fn a_bad_count_is_refused_naming_its_field() {
    let now = Utc::now();
    let summary = ShadowRefusalSummary {
        minute: now,
        rule_kind: "route".into(),
        rule: "standard".into(),
        user: None,
        requests: 1,
    };
    let problems = rows("gw", &[summary], now).unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|problem| problem.field.as_str()).collect();
    assert!(fields.contains(&"shadow_refusals[0].rule_kind"), "{fields:?}");
}
