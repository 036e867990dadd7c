//! Configuration as code through the admin API: export → apply into an empty hub → export gives
//! the same files; apply is idempotent and prints its plan; `--prune` deletes what the manifests
//! leave out; a bad set is refused whole, each problem at its file and line, the hub unchanged.

use axum::http::StatusCode;
use hub::store::Backend;
use serde_json::{Value, json};

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    export_then_apply_into_an_empty_hub_then_export_gives_the_same_files,
    applying_twice_changes_nothing_and_the_plan_says_what_changes,
    prune_deletes_what_the_manifests_leave_out,
    a_bad_set_is_refused_whole_with_each_problem_at_its_line,
    apply_publishes_with_the_commit_when_asked
);

const OPENAPI: &str = "openapi: 3.0.3\ninfo: { title: Pets, version: '1' }\npaths:\n  /pets:\n    get: { operationId: listPets, responses: { '200': { description: ok } } }\n";

async fn empty_like(app: &TestApp) -> TestApp {
    match app.store.backend() {
        Backend::Sqlite => TestApp::sqlite().await,
        Backend::Postgres => TestApp::postgres().await,
    }
}

async fn seed(app: &TestApp) {
    app.create("/api/v1/apis", api("pets", "/pets")).await;
    let mut weather = api("weather", "/weather");
    weather["external"] = json!(true);
    weather["tags"] = json!(["outside", "forecast"]);
    app.create("/api/v1/apis", weather).await;
    app.create(
        "/api/v1/apis/pets/versions",
        json!({"name": "v1", "status": "published", "selector": {"kind": "path", "segment": "v1"}, "openapi": OPENAPI}),
    )
    .await;
    app.create(
        "/api/v1/apis/pets/versions",
        json!({"name": "v2", "status": "draft", "selector": {"kind": "header", "name": "x-version", "value": "2"}}),
    )
    .await;
    app.create("/api/v1/groups", json!({"name": "support", "display_name": "Support"}))
        .await;
    app.create("/api/v1/groups", json!({"name": "staff"})).await;
    app.create(
        "/api/v1/plans",
        json!({"name": "gold", "rate_limit": {"requests": 2000, "window_seconds": 65}, "quota": {"requests": 100000, "period": "month"}}),
    )
    .await;
    app.create(
        "/api/v1/portals",
        json!({"name": "default", "title": "Acme developers", "welcome": "Read the pets.", "self_sign_up": true}),
    )
    .await;
    app.create(
        "/api/v1/access-policies",
        json!({"name": "support-reads", "groups": ["support", "staff"], "plan": "gold",
               "apis": [{"api": "pets", "versions": ["v1"], "methods": ["GET", "HEAD"]}, {"api": "weather"}]}),
    )
    .await;
}

async fn export(app: &TestApp) -> Vec<Value> {
    let response = app.admin("GET", "/api/v1/manifests", None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json["files"].as_array().unwrap().clone()
}

async fn apply(app: &TestApp, files: &[Value], options: Value) -> crate::support::Response {
    let mut body = json!({ "files": files });
    body.as_object_mut()
        .unwrap()
        .extend(options.as_object().unwrap().clone());
    app.admin("POST", "/api/v1/manifests/apply", Some(body)).await
}

fn file<'a>(files: &'a [Value], path: &str) -> &'a str {
    files
        .iter()
        .find(|file| file["path"] == path)
        .and_then(|file| file["text"].as_str())
        .unwrap_or_else(|| panic!("no {path} in {files:?}"))
}

async fn export_then_apply_into_an_empty_hub_then_export_gives_the_same_files(app: TestApp) {
    seed(&app).await;
    let exported = export(&app).await;
    let paths: Vec<&str> = exported.iter().map(|file| file["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "access-policies.yaml",
            "apis/pets.yaml",
            "apis/pets/v1.openapi.yaml",
            "apis/weather.yaml",
            "groups.yaml",
            "plans.yaml",
            "portals.yaml"
        ]
    );
    assert!(file(&exported, "apis/weather.yaml").starts_with("kind: ExternalApi\nname: weather\n"));
    assert!(file(&exported, "apis/pets.yaml").contains("openapi_file: pets/v1.openapi.yaml"));
    assert_eq!(file(&exported, "apis/pets/v1.openapi.yaml"), OPENAPI);

    let empty = empty_like(&app).await;
    let applied = apply(&empty, &exported, json!({})).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.json["applied"], true);
    assert_eq!(
        applied.json["steps"].as_array().unwrap().len(),
        9,
        "2 groups, 1 plan, 2 APIs, 2 versions, 1 policy, 1 portal"
    );
    assert_eq!(export(&empty).await, exported, "the round trip gives the same files");
}

async fn applying_twice_changes_nothing_and_the_plan_says_what_changes(app: TestApp) {
    seed(&app).await;
    let mut files = export(&app).await;
    let before = app.audit_count().await;
    let again = apply(&app, &files, json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(
        again.json["steps"],
        json!([]),
        "applying the hub's own state changes nothing"
    );
    assert_eq!(app.audit_count().await, before);

    // Lower the plan and drop HEAD: a dry run plans exactly those, and changes nothing.
    for file in files.iter_mut() {
        let text = file["text"].as_str().unwrap().to_owned();
        file["text"] = json!(
            text.replace("requests: 2000", "requests: 20")
                .replace("    - HEAD\n", "")
        );
    }
    let dry = apply(&app, &files, json!({"dry_run": true})).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(dry.json["applied"], false);
    assert_eq!(
        dry.json["steps"],
        json!([
            {"action": "update", "kind": "Plan", "name": "gold", "fields": ["rate_limit"]},
            {"action": "update", "kind": "AccessPolicy", "name": "support-reads", "fields": ["apis"]}
        ])
    );
    assert_eq!(app.audit_count().await, before, "a dry run changes nothing");
    let real = apply(&app, &files, json!({})).await;
    assert_eq!(real.json["steps"], dry.json["steps"]);
    let plan = app.admin("GET", "/api/v1/plans/gold", None).await;
    assert_eq!(plan.json["rate_limit"]["requests"], 20);
    assert_eq!(
        apply(&app, &files, json!({})).await.json["steps"],
        json!([]),
        "and once applied, again nothing"
    );
}

async fn prune_deletes_what_the_manifests_leave_out(app: TestApp) {
    seed(&app).await;
    let files: Vec<Value> = export(&app)
        .await
        .into_iter()
        .filter(|file| file["path"] != "apis/weather.yaml")
        .map(|mut file| {
            if file["path"] == "access-policies.yaml" {
                let text = file["text"].as_str().unwrap().replace("  - api: weather\n", "");
                file["text"] = json!(text);
            }
            file
        })
        .collect();
    let kept = apply(&app, &files, json!({})).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    assert!(
        app.admin("GET", "/api/v1/apis/weather", None).await.status == StatusCode::OK,
        "without --prune nothing is deleted"
    );
    let pruned = apply(&app, &files, json!({"prune": true})).await;
    assert_eq!(pruned.status, StatusCode::OK, "{}", pruned.text);
    assert_eq!(
        pruned.json["steps"],
        json!([{"action": "delete", "kind": "Api", "name": "weather"}])
    );
    assert_eq!(
        app.admin("GET", "/api/v1/apis/weather", None).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn a_bad_set_is_refused_whole_with_each_problem_at_its_line(app: TestApp) {
    seed(&app).await;
    let before = app.audit_count().await;
    let exported = export(&app).await;
    let mut files: Vec<Value> = exported.clone();
    files.push(json!({"path": "more/new.yaml", "text": "kind: Group\nname: new-team\nspec: {}\n---\nkind: Plan\nname: silver\nspec:\n  rate_limit:\n    requests: lots\n    window_seconds: 60\n---\nkind: AccessPolicy\nname: new-team\nspec:\n  groups: [new-team, nobody]\n  plan: gold\n  apis:\n    - api: pets\n"}));
    let refused = apply(&app, &files, json!({})).await;
    let problems = refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problems.iter().any(|problem| problem.starts_with("more/new.yaml:9:")),
        "{problems:?}"
    );
    assert_eq!(
        app.audit_count().await,
        before,
        "nothing of the set was applied, not even the valid group"
    );

    // A reference to a group that exists nowhere is refused by the hub's rule, at its line.
    files.pop();
    files.push(json!({"path": "more/new.yaml", "text": "kind: Group\nname: new-team\nspec: {}\n---\nkind: AccessPolicy\nname: new-team\nspec:\n  groups: [new-team, nobody]\n  plan: gold\n  apis:\n    - api: pets\n"}));
    let refused = apply(&app, &files, json!({})).await;
    let status = refused.status;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::NOT_FOUND,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("more/new.yaml:8:"), "{}", refused.text);
    assert!(refused.text.contains("nobody"), "{}", refused.text);
    assert_eq!(
        app.audit_count().await,
        before,
        "the group before it was rolled back too"
    );
    assert_eq!(
        app.admin("GET", "/api/v1/groups/new-team", None).await.status,
        StatusCode::NOT_FOUND
    );

    let broken = apply(
        &app,
        &[json!({"path": "x.yaml", "text": "kind: Group\nname: [oops\n"})],
        json!({}),
    )
    .await;
    let problems = broken.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problems.iter().any(|problem| problem.starts_with("x.yaml:")),
        "{problems:?}"
    );
    let viewer = app
        .viewer("POST", "/api/v1/manifests/apply", Some(json!({"files": exported})))
        .await;
    viewer.assert_problem(StatusCode::FORBIDDEN);
}

async fn apply_publishes_with_the_commit_when_asked(app: TestApp) {
    seed(&app).await;
    let files = export(&app).await;
    let empty = empty_like(&app).await;
    let applied = apply(
        &empty,
        &files,
        json!({"publish": true, "message": "from the repository", "commit": "0123abcd"}),
    )
    .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    let revision = &applied.json["published"]["revision"];
    assert_eq!(revision["number"], 1);
    assert_eq!(revision["message"], "from the repository");
    assert_eq!(revision["source_commit"], "0123abcd");
    let again = apply(&empty, &files, json!({"publish": true})).await;
    assert_eq!(again.json["published"], Value::Null, "nothing new to publish");
}
