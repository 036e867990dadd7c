//! The engine over hand-written snapshots, one `check` per case: the report's lines
//! (`severity message`) and its verdict. Manifest-built cases are in `tests/it/impact.rs`.

use serde_json::{Value, json};

use super::*;

fn snapshot(apis: Value, plans: Value, rules: Value) -> Snapshot {
    let document = json!({ "format": 1, "apis": apis, "plans": plans, "access_rules": rules });
    Snapshot::parse(document.to_string().as_bytes()).expect("a valid snapshot")
}

fn api(name: &str, versions: Value) -> Value {
    json!({
        "name": name,
        "path_prefix": format!("/{name}"),
        "upstream": { "targets": [{ "url": "http://127.0.0.1:9" }] },
        "versions": versions,
    })
}

fn version(name: &str, status: &str) -> Value {
    json!({ "name": name, "status": status, "selector": { "kind": "path", "segment": name } })
}

fn plan(name: &str, requests: u64, window_seconds: u64) -> Value {
    json!({ "name": name, "rate_limit": { "requests": requests, "window_seconds": window_seconds } })
}

fn rule(policy: &str, groups: &[&str], api: &str, methods: &[&str], plan: &str) -> Value {
    json!({ "policy": policy, "groups": groups, "api": api, "methods": methods, "plan": plan })
}

#[track_caller]
fn check(before: &Snapshot, after: &Snapshot, people: &People, verdict: Verdict, expected: &[&str]) {
    let report = impact(before, after, people).expect("both compile");
    let lines: Vec<String> = report
        .items
        .iter()
        .map(|item| format!("{} {}", item.severity.as_str(), item.message))
        .collect();
    assert_eq!(lines, expected, "{}", render_text(&report));
    assert_eq!(report.verdict, verdict, "{}", render_text(&report));
}

fn people(users: &[(&str, &[&str])]) -> People {
    let mut people = People::default();
    people.know_users();
    for (name, groups) in users {
        people.add_user(*name, groups.iter().copied());
    }
    people
}

#[test]
fn no_change_is_safe() {
    let both = snapshot(
        json!([api("employees", json!([version("v2", "published")]))]),
        json!([plan("gold", 10, 60)]),
        json!([rule("p", &["support"], "employees", &[], "gold")]),
    );
    check(&both, &both, &People::default(), Verdict::Safe, &[]);
}

#[test]
fn a_lost_method_names_the_group_and_only_the_members_who_lose_it() {
    let apis = json!([api("employees", json!([version("v2", "published")]))]);
    let plans = json!([plan("gold", 10, 60)]);
    let admins = rule("admins", &["admins"], "employees", &[], "gold");
    let before = snapshot(
        apis.clone(),
        plans.clone(),
        json!([admins.clone(), rule("support", &["support"], "employees", &[], "gold")]),
    );
    let after = snapshot(
        apis,
        plans,
        json!([
            admins,
            rule("support", &["support"], "employees", &["GET", "HEAD"], "gold")
        ]),
    );
    let people = people(&[("alice", &["support"]), ("bob", &["support", "admins"])]);
    check(
        &before,
        &after,
        &people,
        Verdict::NarrowsAccess,
        &["narrowing group `support` loses POST, PUT, PATCH, DELETE, OPTIONS on `employees` v2 — affects 1 user"],
    );
    let report = impact(&before, &after, &people).unwrap();
    assert_eq!(
        report.users,
        Some(vec!["alice".to_owned()]),
        "bob keeps them through `admins`"
    );
    assert_eq!(report.groups, vec!["support".to_owned()]);
}

#[test]
fn the_same_change_on_several_versions_is_one_item() {
    let apis = json!([api(
        "employees",
        json!([version("v1", "published"), version("v2", "published")])
    )]);
    let plans = json!([plan("gold", 10, 60)]);
    let before = snapshot(
        apis.clone(),
        plans.clone(),
        json!([rule("p", &["support"], "employees", &[], "gold")]),
    );
    let after = snapshot(
        apis,
        plans,
        json!([rule("p", &["support"], "employees", &["GET"], "gold")]),
    );
    check(
        &before,
        &after,
        &People::default(),
        Verdict::NarrowsAccess,
        &["narrowing group `support` loses HEAD, POST, PUT, PATCH, DELETE, OPTIONS on `employees` v1, v2"],
    );
}

#[test]
fn operations_are_compared_where_rules_name_them() {
    let operations = json!([
        { "id": "listEmployees", "method": "GET", "path": "/employees" },
        { "id": "deleteEmployee", "method": "DELETE", "path": "/employees/{id}" },
    ]);
    let mut v2 = version("v2", "published");
    v2["operations"] = operations;
    let apis = json!([api("employees", json!([v2]))]);
    let plans = json!([plan("gold", 10, 60)]);
    let granting = |operations: &[&str]| json!([{ "policy": "p", "groups": ["support"], "api": "employees", "operations": operations, "plan": "gold" }]);
    let before = snapshot(
        apis.clone(),
        plans.clone(),
        granting(&["listEmployees", "deleteEmployee"]),
    );
    let after = snapshot(apis.clone(), plans.clone(), granting(&["listEmployees"]));
    check(
        &before,
        &after,
        &People::default(),
        Verdict::NarrowsAccess,
        &["narrowing group `support` loses operation `deleteEmployee` on `employees` v2"],
    );
    // From every call to only some operations: the methods go, the operations kept are not news.
    let everything = snapshot(apis, plans, json!([rule("p", &["support"], "employees", &[], "gold")]));
    check(
        &everything,
        &after,
        &People::default(),
        Verdict::NarrowsAccess,
        &["narrowing group `support` loses every method on `employees` v2, except operation `listEmployees`"],
    );
}

#[test]
fn a_lowered_rate_limit_names_whom_it_governs() {
    let apis = json!([
        api("employees", json!([version("v2", "published")])),
        api("payroll", json!([])),
        api("wiki", json!([])),
    ]);
    let rules = json!([
        rule("support", &["support"], "employees", &[], "gold"),
        rule("finance", &["finance"], "payroll", &[], "gold"),
        rule("everyone", &["staff"], "wiki", &[], "free"),
    ]);
    let before = snapshot(
        apis.clone(),
        json!([plan("gold", 2000, 65), plan("free", 10, 60)]),
        rules.clone(),
    );
    let after = snapshot(apis, json!([plan("gold", 20, 65), plan("free", 10, 60)]), rules);
    let people = people(&[
        ("alice", &["support"]),
        ("fred", &["finance", "staff"]),
        ("sam", &["staff"]),
    ]);
    check(
        &before,
        &after,
        &people,
        Verdict::NarrowsAccess,
        &[
            "limit-lowered plan `gold`: rate limit 2,000/65 s → 20/65 s (100× lower) — affects APIs `employees`, \
             `payroll`; groups `finance`, `support`; 2 users",
        ],
    );
}

#[test]
fn a_retired_version_says_who_called_it() {
    let plans = json!([plan("gold", 10, 60)]);
    let rules = json!([rule("p", &["support"], "legacy", &[], "gold")]);
    let before = snapshot(
        json!([api(
            "legacy",
            json!([version("v1", "published"), version("v2", "published")])
        )]),
        plans.clone(),
        rules.clone(),
    );
    let after = snapshot(
        json!([api(
            "legacy",
            json!([version("v1", "retired"), version("v2", "published")])
        )]),
        plans,
        rules,
    );
    let mut people = People::default();
    people.add_callers("legacy", Some("v1".into()), ["a/one", "b/two", "c/three"]);
    people.add_callers("legacy", Some("v2".into()), ["d/four"]);
    check(
        &before,
        &after,
        &people,
        Verdict::Breaking,
        &[
            "breaking-removal API `legacy` v1 retired — 3 applications called it in the last 7 days; affects group `support`",
        ],
    );
    let report = impact(&before, &after, &people).unwrap();
    assert_eq!(report.items[0].applications.as_ref().unwrap().len(), 3);
    assert_eq!(report.users, None, "without a hub the report speaks by group");
}

#[test]
fn a_fail_threshold_compares_verdicts() {
    let report = |verdict| Report {
        verdict,
        items: Vec::new(),
        apis: Vec::new(),
        groups: Vec::new(),
        users: None,
    };
    assert!(report(Verdict::Breaking).fails(Verdict::NarrowsAccess));
    assert!(report(Verdict::NarrowsAccess).fails(Verdict::NarrowsAccess));
    assert!(!report(Verdict::NarrowsAccess).fails(Verdict::Breaking));
    assert!(!report(Verdict::WidensAccess).fails(Verdict::NarrowsAccess));
}

#[test]
fn numbers_have_thousands_separators() {
    for (n, shown) in [(0, "0"), (999, "999"), (2000, "2,000"), (1_234_567, "1,234,567")] {
        assert_eq!(thousands(n), shown);
    }
}

#[test]
fn markdown_starts_with_its_marker_and_escapes_cells() {
    let before = snapshot(json!([api("a", json!([]))]), json!([]), json!([]));
    let after = snapshot(json!([]), json!([]), json!([]));
    let markdown = render_markdown(&impact(&before, &after, &People::default()).unwrap());
    assert!(markdown.starts_with(render::MARKDOWN_MARKER), "{markdown}");
    assert!(
        markdown.contains("| 1 | **breaking-removal** | API `a` removed |"),
        "{markdown}"
    );
}

#[test]
fn a_grant_narrowed_to_some_addresses_is_told_with_whom_it_narrows() {
    let apis = json!([api("employees", json!([version("v2", "published")]))]);
    let plans = json!([plan("gold", 10, 60)]);
    let with_lists = |allow: &[&str], deny: &[&str]| {
        let mut rule = rule("partners", &["partners"], "employees", &[], "gold");
        rule["ip_allow"] = json!(allow);
        rule["ip_deny"] = json!(deny);
        snapshot(apis.clone(), plans.clone(), json!([rule]))
    };
    let open = with_lists(&[], &[]);
    let office = with_lists(&["10.0.0.0/8"], &[]);
    let who = people(&[("pat", &["partners"]), ("sam", &["support"])]);
    check(
        &open,
        &office,
        &who,
        Verdict::NarrowsAccess,
        &[
            "narrowing access policy `partners` now grants API `employees` only from 10.0.0.0/8 (was: from any address) — affects group `partners`; 1 user",
        ],
    );
    check(
        &office,
        &with_lists(&["10.0.0.0/8", "192.168.0.0/16"], &[]),
        &who,
        Verdict::WidensAccess,
        &[
            "widening access policy `partners` now grants API `employees` only from 10.0.0.0/8, 192.168.0.0/16 (was: only from 10.0.0.0/8) — affects group `partners`; 1 user",
        ],
    );
    check(
        &office,
        &with_lists(&["10.0.0.0/8"], &["10.9.0.0/16"]),
        &People::default(),
        Verdict::NarrowsAccess,
        &[
            "narrowing access policy `partners` now grants API `employees` only from 10.0.0.0/8, not from 10.9.0.0/16 (was: only from 10.0.0.0/8) — affects group `partners`",
        ],
    );
    // The same networks in another order change nothing.
    let reordered = with_lists(&["192.168.0.0/16", "10.0.0.0/8"], &[]);
    check(
        &with_lists(&["10.0.0.0/8", "192.168.0.0/16"], &[]),
        &reordered,
        &who,
        Verdict::Safe,
        &[],
    );
}
