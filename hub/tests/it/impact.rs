//! The change-impact report over manifests written here: for each kind of change, the report
//! names exactly the APIs, groups (and, from a hub, users and applications) affected, and
//! nothing else. Then from a hub's store on both backends: users by group, the callers endpoint
//! the command line asks, and the dashboard's revisions page showing the impact before publishing.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Timelike, Utc};
use hub::domain::manifests::{ApplyOptions, apply};
use hub::domain::{objects, usage};
use hub::identity::Actor;
use hub::impact::{self, People, Report, Verdict};
use hub::manifest::SourceFile;
use hub::model::user::UserInput;
use hub::model::{Role, User};
use tower::ServiceExt;

use crate::support::{TestApp, on_both_stores};

on_both_stores!(
    a_hub_names_exactly_the_users_each_change_affects,
    the_callers_endpoint_lists_applications_by_api_version,
    the_revisions_page_shows_the_impact_of_pending_changes
);

// === the manifests ===

const EMPLOYEES: &str = "kind: Api\nname: employees\nspec:\n  route: { path_prefix: /employees }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9' } ] }\n  versions:\n    - name: v1\n      status: published\n      selector: { kind: path, segment: v1 }\n    - name: v2\n      status: published\n      selector: { kind: path, segment: v2 }\n      openapi_file: employees-v2.yaml\n";
const EMPLOYEES_V2: &str = "openapi: 3.0.3\ninfo: { title: Employees, version: '2' }\npaths:\n  /employees:\n    get: { operationId: listEmployees }\n  /employees/{id}:\n    delete: { operationId: deleteEmployee }\n";
const PAYROLL: &str = "kind: Api\nname: payroll\nspec:\n  route: { path_prefix: /payroll }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9' } ] }\n";
const LEGACY: &str = "kind: Api\nname: legacy\nspec:\n  route: { path_prefix: /legacy }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9' } ] }\n  versions:\n    - name: v1\n      status: published\n";
const WIKI: &str = "kind: Api\nname: wiki\nspec:\n  route: { path_prefix: /wiki }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9' } ] }\n";
const GROUPS: &str = "kind: Group\nname: support\nspec: {}\n---\nkind: Group\nname: finance\nspec: {}\n---\nkind: Group\nname: staff\nspec: {}\n---\nkind: Group\nname: admins\nspec: {}\n---\nkind: Group\nname: superusers\nspec: {}\n";
const PLANS: &str = "kind: Plan\nname: gold\nspec:\n  rate_limit: { requests: 2000, window_seconds: 65 }\n---\nkind: Plan\nname: silver\nspec:\n  rate_limit: { requests: 100, window_seconds: 60 }\n  quota: { requests: 10000, period: day }\n---\nkind: Plan\nname: free\nspec:\n  rate_limit: { requests: 10, window_seconds: 60 }\n";
const POLICIES: &str = "kind: AccessPolicy\nname: support\nspec:\n  groups: [support]\n  plan: gold\n  apis:\n    - api: employees\n    - api: legacy\n---\nkind: AccessPolicy\nname: finance\nspec:\n  groups: [finance]\n  plan: gold\n  apis:\n    - api: payroll\n---\nkind: AccessPolicy\nname: everyone\nspec:\n  groups: [staff]\n  plan: free\n  apis:\n    - api: wiki\n      methods: [GET]\n---\nkind: AccessPolicy\nname: admins\nspec:\n  groups: [admins]\n  plan: silver\n  apis:\n    - api: employees\n      versions: [v2]\n      operations: [listEmployees, deleteEmployee]\n---\nkind: AccessPolicy\nname: superusers\nspec:\n  groups: [superusers]\n  plan: gold\n  apis:\n    - api: employees\n";

/// The manifest set, one file per part; each part can be replaced or left out.
#[derive(Clone)]
struct World {
    parts: Vec<(&'static str, String)>,
}

impl World {
    fn base() -> World {
        World {
            parts: vec![
                ("apis/employees.yaml", EMPLOYEES.into()),
                ("apis/employees-v2.yaml", EMPLOYEES_V2.into()),
                ("apis/payroll.yaml", PAYROLL.into()),
                ("apis/legacy.yaml", LEGACY.into()),
                ("apis/wiki.yaml", WIKI.into()),
                ("groups.yaml", GROUPS.into()),
                ("plans.yaml", PLANS.into()),
                ("policies.yaml", POLICIES.into()),
            ],
        }
    }

    /// Replaces `from` with `to` in a file, which must hold it.
    #[track_caller]
    fn edit(mut self, path: &str, from: &str, to: &str) -> World {
        let part = self.parts.iter_mut().find(|(name, _)| *name == path).expect("a part");
        assert!(part.1.contains(from), "{path} holds no `{from}`");
        part.1 = part.1.replacen(from, to, 1);
        self
    }

    fn without(mut self, path: &str) -> World {
        self.parts.retain(|(name, _)| *name != path);
        self
    }

    fn with(mut self, path: &'static str, text: &str) -> World {
        self.parts.push((path, text.into()));
        self
    }

    fn files(&self) -> Vec<SourceFile> {
        self.parts
            .iter()
            .map(|(path, text)| SourceFile {
                path: (*path).into(),
                text: text.clone(),
            })
            .collect()
    }

    fn snapshot(&self) -> gateway::snapshot::Snapshot {
        impact::manifests::snapshot_of(self.files()).unwrap_or_else(|problems| panic!("{problems}"))
    }
}

fn report(after: &World, people: &People) -> Report {
    impact::impact(&World::base().snapshot(), &after.snapshot(), people).expect("both compile")
}

/// The report from the base to `after`, by group: its lines, verdict, APIs and groups.
#[track_caller]
fn check(after: World, verdict: Verdict, lines: &[&str], apis: &[&str], groups: &[&str]) {
    let report = report(&after, &People::default());
    let found: Vec<String> = report
        .items
        .iter()
        .map(|item| format!("{} {}", item.severity.as_str(), item.message))
        .collect();
    assert_eq!(found, lines, "{}", impact::render_text(&report));
    assert_eq!(report.verdict, verdict, "{}", impact::render_text(&report));
    assert_eq!(report.apis, apis, "APIs");
    assert_eq!(report.groups, groups, "groups");
    assert_eq!(report.users, None, "without a hub, no users");
}

// === each kind of change, by group ===

#[test]
fn nothing_changed_is_safe() {
    check(World::base(), Verdict::Safe, &[], &[], &[]);
}

#[test]
fn a_lowered_rate_limit_names_the_apis_and_groups_it_governs() {
    check(
        World::base().edit("plans.yaml", "requests: 2000", "requests: 20"),
        Verdict::NarrowsAccess,
        &[
            "limit-lowered plan `gold`: rate limit 2,000/65 s → 20/65 s (100× lower) — affects APIs `employees`, \
           `legacy`, `payroll`; groups `finance`, `superusers`, `support`",
        ],
        &["employees", "legacy", "payroll"],
        &["finance", "superusers", "support"],
    );
}

#[test]
fn a_raised_quota_names_the_group_under_it() {
    check(
        World::base().edit("plans.yaml", "requests: 10000", "requests: 50000"),
        Verdict::WidensAccess,
        &[
            "limit-raised plan `silver`: quota 10,000/day → 50,000/day (5× higher) — affects API `employees`; group \
           `admins`",
        ],
        &["employees"],
        &["admins"],
    );
}

#[test]
fn a_plan_no_grant_uses_changes_no_one() {
    check(
        World::base().with(
            "spare.yaml",
            "kind: Plan\nname: spare\nspec:\n  rate_limit: { requests: 5, window_seconds: 60 }\n",
        ),
        Verdict::Safe,
        &[],
        &[],
        &[],
    );
}

#[test]
fn a_group_losing_methods_is_named_with_the_versions() {
    check(
        World::base().edit(
            "policies.yaml",
            "    - api: employees\n    - api: legacy",
            "    - api: employees\n      methods: [GET, HEAD]\n    - api: legacy",
        ),
        Verdict::NarrowsAccess,
        &["narrowing group `support` loses POST, PUT, PATCH, DELETE, OPTIONS on `employees` v1, v2"],
        &["employees"],
        &["support"],
    );
}

#[test]
fn a_group_losing_an_operation_is_named() {
    check(
        World::base().edit("policies.yaml", "[listEmployees, deleteEmployee]", "[listEmployees]"),
        Verdict::NarrowsAccess,
        &["narrowing group `admins` loses operation `deleteEmployee` on `employees` v2"],
        &["employees"],
        &["admins"],
    );
}

#[test]
fn a_group_gaining_a_version_is_widening() {
    check(
        World::base().edit(
            "policies.yaml",
            "    - api: payroll\n",
            "    - api: payroll\n    - api: employees\n      versions: [v1]\n      methods: [GET]\n",
        ),
        Verdict::WidensAccess,
        &["widening group `finance` gains GET on `employees` v1 (plan `gold`)"],
        &["employees"],
        &["finance"],
    );
}

#[test]
fn a_group_moving_to_a_lower_plan_is_a_lowered_limit() {
    check(
        World::base().edit(
            "policies.yaml",
            "groups: [finance]\n  plan: gold",
            "groups: [finance]\n  plan: silver",
        ),
        Verdict::NarrowsAccess,
        &[
            "limit-lowered group `finance` moves from plan `gold` to `silver` on `payroll` (rate limit 2,000/65 s → \
           100/60 s (18.5× lower); quota none → 10,000/day)",
        ],
        &["payroll"],
        &["finance"],
    );
}

#[test]
fn an_added_api_says_who_gains_it() {
    check(
        World::base()
            .with(
                "apis/reports.yaml",
                "kind: Api\nname: reports\nspec:\n  route: { path_prefix: /reports }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9' } ] }\n",
            )
            .edit("policies.yaml", "    - api: payroll\n", "    - api: payroll\n    - api: reports\n"),
        Verdict::WidensAccess,
        &[
            "widening group `finance` gains every method on `reports` (plan `gold`)",
            "info API `reports` added — affects group `finance`",
        ],
        &["reports"],
        &["finance"],
    );
}

#[test]
fn a_removed_api_is_breaking_for_those_who_could_call_it() {
    let after = World::base()
        .without("apis/payroll.yaml")
        .edit(
            "policies.yaml",
            "kind: AccessPolicy\nname: finance\nspec:\n  groups: [finance]\n  plan: gold\n  apis:\n    - api: payroll\n---\n",
            "",
        );
    check(
        after,
        Verdict::Breaking,
        &["breaking-removal API `payroll` removed — affects group `finance`"],
        &["payroll"],
        &["finance"],
    );
}

#[test]
fn a_deprecated_version_names_who_still_calls_it() {
    check(
        World::base().edit(
            "apis/employees.yaml",
            "v1\n      status: published",
            "v1\n      status: deprecated",
        ),
        Verdict::Safe,
        &["info API `employees` v1 deprecated — affects groups `superusers`, `support`"],
        &["employees"],
        &["superusers", "support"],
    );
}

#[test]
fn a_retired_version_is_breaking_for_those_who_could_call_it() {
    check(
        World::base().edit("apis/legacy.yaml", "status: published", "status: retired"),
        Verdict::Breaking,
        &["breaking-removal API `legacy` v1 retired — affects group `support`"],
        &["legacy"],
        &["support"],
    );
}

#[test]
fn a_removed_version_is_breaking_for_those_who_could_call_it() {
    check(
        World::base().edit(
            "apis/employees.yaml",
            "    - name: v1\n      status: published\n      selector: { kind: path, segment: v1 }\n",
            "",
        ),
        Verdict::Breaking,
        &["breaking-removal API `employees` v1 removed — affects groups `superusers`, `support`"],
        &["employees"],
        &["superusers", "support"],
    );
}

#[test]
fn an_added_version_says_who_gains_it() {
    check(
        World::base().edit(
            "apis/employees.yaml",
            "  versions:\n",
            "  versions:\n    - name: v3\n      status: published\n      selector: { kind: path, segment: v3 }\n",
        ),
        Verdict::WidensAccess,
        &[
            "widening group `superusers` gains every method on `employees` v3 (plan `gold`)",
            "widening group `support` gains every method on `employees` v3 (plan `gold`)",
            "info API `employees` v3 added — affects groups `superusers`, `support`",
        ],
        &["employees"],
        &["superusers", "support"],
    );
}

#[test]
fn a_changed_route_is_breaking_for_those_who_could_call_it() {
    check(
        World::base().edit("apis/wiki.yaml", "path_prefix: /wiki", "path_prefix: /docs"),
        Verdict::Breaking,
        &[
            "breaking-removal API `wiki` route `/wiki` → `/docs`: calls to `/wiki` no longer reach it — affects group \
           `staff`",
        ],
        &["wiki"],
        &["staff"],
    );
}

#[test]
fn a_changed_selector_is_breaking_for_those_who_could_call_it() {
    check(
        World::base().edit("apis/employees.yaml", "segment: v1", "segment: version-1"),
        Verdict::Breaking,
        &[
            "breaking-removal API `employees` v1 selected by path segment `v1` → path segment `version-1`: calls that \
           select it the old way no longer reach it — affects groups `superusers`, `support`",
        ],
        &["employees"],
        &["superusers", "support"],
    );
}

#[test]
fn a_changed_upstream_is_news_to_no_group() {
    check(
        World::base().edit("apis/wiki.yaml", "http://127.0.0.1:9", "http://127.0.0.1:10"),
        Verdict::Safe,
        &["info API `wiki` upstream `http://127.0.0.1:9` → `http://127.0.0.1:10`"],
        &["wiki"],
        &[],
    );
}

#[test]
fn a_set_that_does_not_compile_is_refused_at_each_line() {
    let after = World::base()
        .edit(
            "policies.yaml",
            "groups: [finance]\n  plan: gold",
            "groups: [finance]\n  plan: platinum",
        )
        .edit(
            "policies.yaml",
            "    - api: legacy\n",
            "    - api: legacy\n      versions: [v9]\n",
        );
    let problems = impact::manifests::snapshot_of(after.files()).expect_err("an unknown plan and version");
    let places: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        places,
        [
            "policies.yaml:15:9: spec.plan: unknown plan `platinum` [compile]",
            "policies.yaml:9:18: spec.apis[1].versions[0]: API `legacy` has no version `v9` [compile]",
        ],
        "{problems}"
    );
}

// === from a hub: users, callers, the dashboard ===

const PASSWORD: &str = "correct horse battery";

async fn user(app: &TestApp, name: &str, role: Role, groups: &[&str], disabled: bool) {
    objects::create::<User>(
        &app.store,
        &Actor::system(),
        UserInput {
            name: name.into(),
            email: None,
            display_name: String::new(),
            role,
            groups: groups.iter().map(|group| group.to_string()).collect(),
            disabled,
            password: Some(PASSWORD.into()),
        },
    )
    .await
    .unwrap();
}

/// The base world applied and published, its users created, and `after` applied unpublished;
/// `legacy` v1 called by two applications and `payroll` by one.
async fn hub_with_pending(app: &TestApp, after: &World) {
    let publish = ApplyOptions {
        publish: true,
        message: Some("base".into()),
        ..ApplyOptions::default()
    };
    apply(&app.store, &Actor::system(), World::base().files(), &publish)
        .await
        .unwrap();
    for (name, groups, disabled) in [
        ("alice", &["support"][..], false),
        ("bob", &["support", "admins"], false),
        ("carol", &["support", "superusers"], false),
        ("fred", &["finance", "staff"], false),
        ("sam", &["staff"], false),
        ("nina", &[], false),
        ("dave", &["support"], true),
    ] {
        user(app, name, Role::Developer, groups, disabled).await;
    }
    let pending = ApplyOptions {
        prune: true,
        ..ApplyOptions::default()
    };
    apply(&app.store, &Actor::system(), after.files(), &pending)
        .await
        .unwrap();
    let minute = Utc::now().with_second(0).unwrap().with_nanosecond(0).unwrap();
    let summary = |api: &str, version: Option<&str>, application: &str| {
        serde_json::json!({
            "minute": minute, "api": api, "version": version, "user": application.split('/').next(),
            "application": application, "key": "k1", "status_class": "2xx", "requests": 3,
            "latency_ms_buckets": [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        })
    };
    let report: usage::UsageReport = serde_json::from_value(serde_json::json!({
        "instance": "gw-1",
        "summaries": [
            summary("legacy", Some("v1"), "alice/cli"),
            summary("legacy", Some("v1"), "bob/batch"),
            summary("payroll", None, "fred/books"),
        ],
    }))
    .unwrap();
    usage::ingest(&app.store, "gw", report, Utc::now()).await.unwrap();
}

/// Support reads `employees` only, `gold` is lowered, `legacy` v1 is retired.
fn narrowing_world() -> World {
    World::base()
        .edit(
            "policies.yaml",
            "    - api: employees\n    - api: legacy",
            "    - api: employees\n      methods: [GET, HEAD]\n    - api: legacy",
        )
        .edit("plans.yaml", "requests: 2000", "requests: 20")
        .edit("apis/legacy.yaml", "status: published", "status: retired")
}

/// An item's `severity message`, groups, users and applications.
type Affected = (String, Vec<String>, Vec<String>, Option<Vec<String>>);

async fn a_hub_names_exactly_the_users_each_change_affects(app: TestApp) {
    hub_with_pending(&app, &narrowing_world()).await;
    let report = impact::from_store::pending(&app.store, Utc::now())
        .await
        .unwrap()
        .expect("the pending state publishes");
    let found: Vec<Affected> = report
        .items
        .iter()
        .map(|item| {
            (
                format!("{} {}", item.severity.as_str(), item.message),
                item.groups.clone(),
                item.users.clone().unwrap(),
                item.applications.clone(),
            )
        })
        .collect();
    let strings = |all: &[&str]| all.iter().map(|name| name.to_string()).collect::<Vec<_>>();
    assert_eq!(
        found,
        [
            (
                "breaking-removal API `legacy` v1 retired — 2 applications called it in the last 7 days; affects \
                 group `support`; 3 users"
                    .to_owned(),
                strings(&["support"]),
                strings(&["alice", "bob", "carol"]),
                Some(strings(&["alice/cli", "bob/batch"])),
            ),
            (
                // Carol keeps every method through `superusers`; Bob keeps only two operations of v2.
                "narrowing group `support` loses POST, PUT, PATCH, DELETE, OPTIONS on `employees` v1, v2 — affects \
                 2 users"
                    .to_owned(),
                strings(&["support"]),
                strings(&["alice", "bob"]),
                None,
            ),
            (
                "limit-lowered plan `gold`: rate limit 2,000/65 s → 20/65 s (100× lower) — affects APIs \
                 `employees`, `payroll`; groups `finance`, `superusers`, `support`; 4 users"
                    .to_owned(),
                strings(&["finance", "superusers", "support"]),
                strings(&["alice", "bob", "carol", "fred"]),
                None,
            ),
        ],
        "{}",
        impact::render_text(&report)
    );
    assert_eq!(
        report.users,
        Some(strings(&["alice", "bob", "carol", "fred"])),
        "not sam, nina or dave"
    );
    assert_eq!(report.apis, strings(&["employees", "legacy", "payroll"]));
    assert_eq!(report.verdict, Verdict::Breaking);
    let markdown = impact::render_markdown(&report);
    assert!(markdown.contains("- `carol`: #1, #3"), "{markdown}");
}

async fn the_callers_endpoint_lists_applications_by_api_version(app: TestApp) {
    hub_with_pending(&app, &World::base()).await;
    let all = app.viewer("GET", "/api/v1/usage/applications", None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(
        all.json["callers"],
        serde_json::json!([
            { "api": "legacy", "version": "v1", "applications": ["alice/cli", "bob/batch"] },
            { "api": "payroll", "version": null, "applications": ["fred/books"] },
        ])
    );
    let one = app
        .viewer("GET", "/api/v1/usage/applications?api=legacy&version=v1&days=1", None)
        .await;
    assert_eq!(one.json["callers"].as_array().map(Vec::len), Some(1), "{}", one.text);
    let none = app
        .viewer("GET", "/api/v1/usage/applications?api=legacy&version=v9", None)
        .await;
    assert_eq!(none.json["callers"], serde_json::json!([]));
    for bad in ["days=0", "days=31", "version=v1"] {
        let refused = app
            .viewer("GET", &format!("/api/v1/usage/applications?{bad}"), None)
            .await;
        refused.assert_problem(StatusCode::BAD_REQUEST);
    }
    let anonymous = app.send("GET", "/api/v1/usage/applications", None, None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let documented = app.viewer("GET", "/api/v1/openapi.json", None).await;
    assert!(
        documented.json["paths"]["/api/v1/usage/applications"]["get"].is_object(),
        "documented in the OpenAPI document"
    );
}

async fn the_revisions_page_shows_the_impact_of_pending_changes(app: TestApp) {
    hub_with_pending(&app, &narrowing_world()).await;
    user(&app, "root", Role::Admin, &[], false).await;
    let cookie = sign_in(&app, "root").await;
    let page = get(&app, "/dashboard/revisions", &cookie).await;
    let impact = page
        .split(r#"<ul class="changes" id="impact">"#)
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_else(|| panic!("no impact list: {page}"));
    let severities: Vec<&str> = impact
        .split(r#"data-severity=""#)
        .skip(1)
        .filter_map(|item| item.split('"').next())
        .collect();
    assert_eq!(
        severities,
        ["breaking-removal", "narrowing", "limit-lowered"],
        "{impact}"
    );
    assert!(
        impact.contains("API <code>legacy</code> v1 retired — 2 applications called it in the last 7 days"),
        "{impact}"
    );
    assert!(page.contains("Verdict: <strong>breaking</strong>"), "{page}");
    let form = page
        .find(r#"action="/dashboard/revisions/publish""#)
        .expect("the publish form");
    assert!(
        page.find(r#"id="impact""#).unwrap() < form,
        "the impact is above the publish button"
    );

    // Once published, nothing is pending and no impact is shown.
    hub::domain::publish::publish(&app.store, &Actor::system(), "narrow", None)
        .await
        .unwrap();
    let page = get(&app, "/dashboard/revisions", &cookie).await;
    assert!(!page.contains(r#"id="impact""#), "{page}");
}

/// Signs in to the dashboard; the session cookie.
async fn sign_in(app: &TestApp, name: &str) -> String {
    let response = app
        .router
        .clone()
        .oneshot(Request::get("/dashboard/sign-in").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let cookie = session_cookie(&response).expect("a session before sign-in");
    let html = body(response).await;
    let csrf = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token")
        .to_owned();
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf", csrf.as_str()), ("name", name), ("password", PASSWORD)])
        .finish();
    let response = app
        .router
        .clone()
        .oneshot(
            Request::post("/dashboard/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &cookie)
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    session_cookie(&response).unwrap_or(cookie)
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> String {
    let response = app
        .router
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    body(response).await
}

fn session_cookie(response: &axum::response::Response) -> Option<String> {
    let cookie = response.headers().get(header::SET_COOKIE)?.to_str().ok()?;
    cookie.split(';').next().map(str::to_owned)
}

async fn body(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}
