//! Change events: `GET /api/v1/events` lists publishes and rollbacks, newest first, filtered by
//! time and paged; and the annotations the hub posts for them to a recording Grafana stand-in on
//! loopback, checked against Grafana's documented `POST /api/annotations` body.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use chrono::{DateTime, TimeZone, Utc};
use hub::distribution::annotations;
use hub::model::{Revision, RevisionKind};
use serde_json::{Value, json};

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    events_list_publishes_and_rollbacks_newest_first,
    events_are_filtered_by_time_and_paged,
    bad_event_parameters_get_a_400_naming_each,
    each_publish_and_rollback_is_annotated_once_in_grafanas_format,
    nothing_is_annotated_without_grafana,
);

const TOKEN: &str = "glsa_test_token";

async fn events_list_publishes_and_rollbacks_newest_first(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    publish(&app, json!({ "message": "first", "source_commit": "abc1234def5678" })).await;
    app.create("/api/v1/apis", api("weather", "/weather")).await;
    publish(&app, json!({ "message": "add weather" })).await;
    rollback(&app, 1, json!({})).await;
    rollback(&app, 2, json!({ "message": "weather is back" })).await;

    let page = app.viewer("GET", "/api/v1/events", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let events = items(&page.json);
    let summary: Vec<_> = events
        .iter()
        .map(|event| {
            assert_eq!(event["author"], "token:test-admin");
            assert!(
                DateTime::parse_from_rfc3339(event["time"].as_str().unwrap()).is_ok(),
                "{event}"
            );
            (
                event["revision"].as_i64().unwrap(),
                event["kind"].as_str().unwrap(),
                event["message"].as_str().unwrap(),
                event["source_commit"].as_str(),
                event["rolled_back_to"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (4, "rollback", "weather is back", None, Some(2)),
            (3, "rollback", "roll back to revision 1", None, Some(1)),
            (2, "publish", "add weather", None, None),
            (1, "publish", "first", Some("abc1234def5678"), None),
        ]
    );
    assert_eq!(page.json["next_before"], Value::Null);
    let revision = app.viewer("GET", "/api/v1/revisions/3", None).await.json;
    assert_eq!(
        (&revision["kind"], &revision["rolled_back_to"]),
        (&json!("rollback"), &json!(1)),
        "a revision says what recorded it"
    );
}

async fn events_are_filtered_by_time_and_paged(app: TestApp) {
    // Recorded directly, an hour apart, so the filters have known times to cut between.
    let mut tx = app.store.begin().await.unwrap();
    for number in 1..=5 {
        let rollback = number == 4;
        let revision = Revision {
            number,
            content_hash: format!("hash-{number}"),
            author: "alice".into(),
            created_at: at_hour(number),
            message: format!("change {number}"),
            source_commit: None,
            kind: if rollback {
                RevisionKind::Rollback
            } else {
                RevisionKind::Publish
            },
            rolled_back_to: rollback.then_some(2),
        };
        tx.insert_revision(&revision, "{}").await.unwrap();
    }
    tx.commit().await.unwrap();

    let check = |query: &str, expected: &[i64], next_before: Option<i64>| {
        let app = &app;
        let query = query.to_owned();
        let expected = expected.to_vec();
        async move {
            let page = app.viewer("GET", &format!("/api/v1/events{query}"), None).await;
            assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.text);
            assert_eq!(numbers(&page.json), expected, "{query}");
            assert_eq!(page.json["next_before"].as_i64(), next_before, "{query}");
        }
    };
    check("?limit=2", &[5, 4], Some(4)).await;
    check("?limit=2&before=4", &[3, 2], Some(2)).await;
    check("?limit=2&before=2", &[1], None).await;
    let hour = |number: i64| at_hour(number).to_rfc3339().replace('+', "%2B");
    check(&format!("?since={}", hour(3)), &[5, 4, 3], None).await;
    check(&format!("?until={}", hour(3)), &[2, 1], None).await;
    check(&format!("?since={}&until={}", hour(2), hour(4)), &[3, 2], None).await;
    check(&format!("?since={}&limit=1", hour(2)), &[5], Some(5)).await;
    check(&format!("?since={}&limit=1&before=5", hour(2)), &[4], Some(4)).await;
    // Any offset names the same instant.
    check("?since=2026-01-01T04:00:00%2B01:00", &[5, 4, 3], None).await;
    let rollback = app.viewer("GET", "/api/v1/events?before=5&limit=1", None).await.json;
    assert_eq!(
        (&rollback["items"][0]["kind"], &rollback["items"][0]["rolled_back_to"]),
        (&json!("rollback"), &json!(2))
    );
}

async fn bad_event_parameters_get_a_400_naming_each(app: TestApp) {
    for (query, fields) in [
        ("limit=0", &["limit"][..]),
        ("limit=501", &["limit"]),
        ("limit=ten", &["limit"]),
        ("before=abc", &["before"]),
        ("before=0", &["before"]),
        ("since=yesterday", &["since"]),
        ("until=2026-01-01", &["until"]),
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", &["until"]),
        ("limit=-1&before=x&since=now", &["before", "limit", "since"]),
    ] {
        let response = app.viewer("GET", &format!("/api/v1/events?{query}"), None).await;
        assert_eq!(response.assert_problem(StatusCode::BAD_REQUEST), fields, "{query}");
    }
    app.send("GET", "/api/v1/events", None, None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);

    let document = app.send("GET", "/api/v1/openapi.json", None, None, None).await.json;
    let operation = &document["paths"]["/api/v1/events"]["get"];
    let parameters: Vec<&str> = operation["parameters"]
        .as_array()
        .expect("documented")
        .iter()
        .map(|parameter| parameter["name"].as_str().unwrap())
        .collect();
    assert_eq!(parameters, ["before", "limit", "since", "until"]);
    assert!(operation["responses"]["400"].is_object(), "{operation}");
}

async fn each_publish_and_rollback_is_annotated_once_in_grafanas_format(app: TestApp) {
    // Published before annotations are on: not posted, so turning them on posts no history.
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    publish(&app, json!({ "message": "before grafana" })).await;

    // Grafana fails the second post: it is retried, and nothing is posted twice.
    let grafana = Recorder::start(&[1]).await;
    // Two replicas on one store, both watching it, as behind a load balancer.
    let replicas = [
        Replica::start(&app, Some(&grafana.url)).await,
        Replica::start(&app, Some(&grafana.url)).await,
    ];
    app.create("/api/v1/apis", api("weather", "/weather")).await;
    publish(
        &app,
        json!({ "message": "add weather", "source_commit": "abc1234def5678" }),
    )
    .await;
    rollback(&app, 1, json!({})).await;
    app.create("/api/v1/apis", api("orders", "/orders")).await;
    publish(&app, json!({})).await;

    let posts = grafana.wait_for(4).await;
    let events = items(&app.viewer("GET", "/api/v1/events", None).await.json);
    let time_of = |revision: i64| {
        let event = events.iter().find(|event| event["revision"] == revision).unwrap();
        DateTime::parse_from_rfc3339(event["time"].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    let expected = [
        json!({
            "time": time_of(2),
            "tags": ["gatehouse", "publish", "revision:2"],
            "text": "add weather — revision 2 by token:test-admin (commit abc1234)",
        }),
        json!({
            "time": time_of(3),
            "tags": ["gatehouse", "rollback", "revision:3"],
            "text": "roll back to revision 1 — revision 3 by token:test-admin",
        }),
        json!({
            "time": time_of(4),
            "tags": ["gatehouse", "publish", "revision:4"],
            "text": "revision 4 by token:test-admin",
        }),
    ];
    let answered: Vec<(&Value, StatusCode)> = posts.iter().map(|post| (&post.body, post.status)).collect();
    assert_eq!(
        answered,
        [
            (&expected[0], StatusCode::OK),
            (&expected[1], StatusCode::INTERNAL_SERVER_ERROR),
            (&expected[1], StatusCode::OK),
            (&expected[2], StatusCode::OK),
        ],
        "each once, in order, the failed one again"
    );
    for post in &posts {
        assert_eq!(
            (post.method.as_str(), post.path.as_str()),
            ("POST", "/grafana/api/annotations")
        );
        assert_eq!(post.header("authorization"), format!("Bearer {TOKEN}"));
        assert!(post.header("content-type").starts_with("application/json"), "{post:?}");
        assert_eq!(post.header("accept"), "application/json");
    }
    // Grafana has answered; the cursor moves just after.
    let status = cursor_at(&app, 4).await;
    assert_eq!(status.failures, 1);
    let (error, _) = status.last_error.expect("the failure is kept");
    assert!(error.contains("revision 3") && error.contains("500"), "{error}");

    // Stopped with the hub: a revision published afterwards waits for the next start.
    for replica in replicas {
        replica.stop().await;
    }
    app.create("/api/v1/apis", api("billing", "/billing")).await;
    publish(&app, json!({ "message": "while stopped" })).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(grafana.posts().len(), 4, "nothing is posted once the hub has stopped");
    let replica = Replica::start(&app, Some(&grafana.url)).await;
    let posts = grafana.wait_for(5).await;
    assert_eq!(posts[4].body["tags"], json!(["gatehouse", "publish", "revision:5"]));
    cursor_at(&app, 5).await;
    replica.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(grafana.posts().len(), 5);
}

async fn nothing_is_annotated_without_grafana(app: TestApp) {
    let grafana = Recorder::start(&[]).await;
    let replica = Replica::start(&app, None).await;
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    publish(&app, json!({ "message": "first" })).await;
    app.create("/api/v1/apis", api("weather", "/weather")).await;
    publish(&app, json!({ "message": "second" })).await;
    rollback(&app, 1, json!({})).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    replica.stop().await;
    assert!(grafana.posts().is_empty());
    assert!(
        annotations::status(&app.store).await.unwrap().is_none(),
        "no cursor is set up"
    );
}

// === helpers ===

async fn publish(app: &TestApp, body: Value) {
    let response = app.admin("POST", "/api/v1/revisions", Some(body)).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
}

async fn rollback(app: &TestApp, number: i64, body: Value) {
    let response = app
        .admin("POST", &format!("/api/v1/revisions/{number}/rollback"), Some(body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
}

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

fn numbers(page: &Value) -> Vec<i64> {
    items(page)
        .iter()
        .map(|event| event["revision"].as_i64().unwrap())
        .collect()
}

/// The annotation cursor once it has reached `revision`, within 10 s.
async fn cursor_at(app: &TestApp, revision: i64) -> hub::store::AnnotationCursorRow {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let status = annotations::status(&app.store).await.unwrap().expect("a cursor");
        if status.last_revision == revision || tokio::time::Instant::now() > deadline {
            assert_eq!(status.last_revision, revision, "{status:?}");
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn at_hour(hour: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(hour)
}

/// A hub replica: `hub::server::serve` on loopback over the test app's store. It learns of the
/// test app's publishes through the store, as of another replica's.
struct Replica {
    shutdown: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Replica {
    async fn start(app: &TestApp, grafana_url: Option<&str>) -> Replica {
        let config = hub::HubConfig {
            grafana_url: grafana_url.map(str::to_owned),
            grafana_token: grafana_url.map(|_| TOKEN.to_owned()),
            ..hub::HubConfig::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let store = app.store.clone();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let feed = hub::distribution::RevisionFeed::default();
            hub::server::serve(listener, store, &config, feed, async move {
                let _ = stopped.await;
            })
            .await
        });
        if grafana_url.is_some() {
            // `serve` sets the annotation cursor up first: publishes after that are posted.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while annotations::status(&app.store).await.unwrap().is_none() {
                assert!(tokio::time::Instant::now() < deadline, "the cursor is set up");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        Replica { shutdown, served }
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        self.served.await.unwrap().unwrap();
    }
}

/// What the Grafana stand-in received.
#[derive(Debug, Clone)]
struct Post {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Value,
    /// What it answered.
    status: StatusCode,
}

impl Post {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

/// A Grafana stand-in on loopback under `/grafana`: records every request, fails those whose
/// index is in `failing` with a 500, and answers the rest as Grafana does, each after 300 ms.
struct Recorder {
    url: String,
    posts: Arc<Mutex<Vec<Post>>>,
}

impl Recorder {
    async fn start(failing: &[usize]) -> Recorder {
        let failing = failing.to_vec();
        let posts = Arc::new(Mutex::new(Vec::<Post>::new()));
        let recorded = posts.clone();
        let record = move |method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
            let posts = recorded.clone();
            let failing = failing.clone();
            async move {
                // Slow, as a distant Grafana: two replicas' posts would overlap, were both to post.
                tokio::time::sleep(Duration::from_millis(300)).await;
                let mut posts = posts.lock().unwrap();
                let status = if failing.contains(&posts.len()) {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                };
                posts.push(Post {
                    method,
                    path: uri.path().to_owned(),
                    headers,
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    status,
                });
                let id = posts.len();
                (status, axum::Json(json!({ "message": "Annotation added", "id": id })))
            }
        };
        let router = axum::Router::new().fallback(record);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/grafana/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Recorder { url, posts }
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    /// The posts once there are `count`, within 20 s.
    async fn wait_for(&self, count: usize) -> Vec<Post> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let posts = self.posts();
            if posts.len() >= count || tokio::time::Instant::now() > deadline {
                assert_eq!(posts.len(), count, "{posts:#?}");
                return posts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
