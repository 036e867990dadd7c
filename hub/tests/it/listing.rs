//! Lists: pages that add up to the whole, and filters that narrow them.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(pages_cover_everything_once, filters_narrow_lists, bad_paging_is_refused);

fn names(page: &serde_json::Value) -> Vec<String> {
    let items = page["items"].as_array().expect("items");
    items
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn pages_cover_everything_once(app: TestApp) {
    let mut expected: Vec<String> = (0..7).map(|index| format!("group-{index}")).collect();
    for name in expected.iter().rev() {
        app.create("/api/v1/groups", json!({ "name": name })).await;
    }
    expected.sort();
    let mut seen = Vec::new();
    let mut path = "/api/v1/groups?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let page = app.viewer("GET", &path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let page_names = names(&page.json);
        assert!(page_names.len() <= 3);
        seen.extend(page_names);
        pages += 1;
        match page.json["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/groups?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected, "in key order, each once");
    assert_eq!(pages, 3);
}

async fn filters_narrow_lists(app: TestApp) {
    let mut payments = api("payments", "/payments");
    payments["tags"] = json!(["money"]);
    payments["description"] = json!("Charge CARDS");
    app.create("/api/v1/apis", payments).await;
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    let mut weather = api("weather", "/weather");
    weather["external"] = json!(true);
    app.create("/api/v1/apis", weather).await;

    let check = |query: &'static str, expected: &'static [&'static str]| {
        let app = &app;
        async move {
            let page = app.viewer("GET", &format!("/api/v1/apis?{query}"), None).await;
            assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.text);
            assert_eq!(names(&page.json), expected, "{query}");
        }
    };
    check("tag=money", &["payments"]).await;
    check("q=cards", &["payments"]).await;
    check("q=PET", &["petstore"]).await;
    check("q=100%25", &[]).await;
    check("external=true", &["weather"]).await;
    check("external=false&tag=demo", &["petstore"]).await;

    app.create("/api/v1/groups", json!({ "name": "staff" })).await;
    app.create("/api/v1/users", json!({ "name": "alice", "groups": ["staff"] }))
        .await;
    app.create("/api/v1/users", json!({ "name": "bob", "role": "viewer" }))
        .await;
    let staff = app.viewer("GET", "/api/v1/users?group=staff", None).await;
    assert_eq!(names(&staff.json), ["alice"]);
    let viewers = app.viewer("GET", "/api/v1/users?role=viewer", None).await;
    assert_eq!(names(&viewers.json), ["bob"]);
}

async fn bad_paging_is_refused(app: TestApp) {
    for query in ["limit=0", "limit=501", "limit=abc", "limit=-1"] {
        let response = app.viewer("GET", &format!("/api/v1/groups?{query}"), None).await;
        response.assert_problem(StatusCode::BAD_REQUEST);
    }
    app.viewer("GET", "/api/v1/audit?cursor=xyz", None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
}
