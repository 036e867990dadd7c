//! Shadow mode end to end: rules set to `shadow` in the hub, a real gateway following it over
//! HTTP, would-be refusals recorded (response header) and reported back to the hub, shown on the
//! rule's dashboard page, in `GET /api/v1/usage/shadow-refusals` and in the impact report of the
//! change that turns shadow off (manifests applied, then published), after which the gateway refuses.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::Utc;
use hub::domain::shadow;
use hub::model::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::support::{TestApp, on_both_stores};

on_both_stores!(
    a_shadowed_plan_lets_every_call_through_and_the_hub_shows_whom_it_would_have_refused,
    a_shadowed_narrowing_policy_records_what_it_would_refuse_and_refuses_once_enforced,
);

async fn a_shadowed_plan_lets_every_call_through_and_the_hub_shows_whom_it_would_have_refused(app: TestApp) {
    let key = seed(
        &app,
        json!({ "name": "standard", "rate_limit": { "requests": 5, "window_seconds": 60 }, "mode": "shadow" }),
        &[json!({ "name": "partners-pets", "groups": ["partners"], "plan": "standard", "apis": [{ "api": "pets" }] })],
    )
    .await;
    let token = publish_and_token(&app).await;
    let hub = Hub::serve(app.store.clone()).await;
    let gateway = Gateway::follow(&hub.url, &token).await;

    let mut flagged = 0;
    for _ in 0..20 {
        let response = gateway.call("GET", "/pets/list", &key).await;
        assert_eq!(response.status, 200, "{}", response.head);
        assert!(
            !response.has("ratelimit:"),
            "a shadowed plan shows no limit: {}",
            response.head
        );
        if response.has("gatehouse-shadow-refusal: plan=standard; rule=rate_limited") {
            flagged += 1;
        }
    }
    assert_eq!(flagged, 15, "5 allowed, 15 would-be 429s");

    // The gateway reports them every second; the hub stores them.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let users = shadow::recent_for(&app.store, "plan", "standard", Utc::now())
            .await
            .unwrap();
        if users.iter().map(|user| user.requests).sum::<u64>() >= 15 {
            assert_eq!(
                users,
                [shadow::RefusedUser {
                    user: Some("alice".into()),
                    requests: 15
                }]
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the would-be refusals did not reach the hub: {users:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut browser = SignedIn::admin(&app).await;
    let page = browser.get("/dashboard/plans/standard").await;
    assert!(
        page.text
            .contains("this plan would have refused alice 15 times in the last hour"),
        "{}",
        page.text
    );
    let listed = app.viewer("GET", "/api/v1/usage/shadow-refusals", None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(
        listed.json["rules"],
        json!([{ "rule_kind": "plan", "rule": "standard", "users": [{ "user": "alice", "requests": 15 }] }])
    );
    assert_eq!(
        listed.json["sentences"],
        json!(["plan `standard` would have refused alice 15 times in the last hour"])
    );

    // Shadow off through manifests: the impact of publishing names whom it would have refused.
    apply_manifests(&app, without_shadow).await;
    let report = hub::impact::from_store::pending(&app.store, Utc::now())
        .await
        .unwrap()
        .expect("the change can be published");
    let report: Value = serde_json::from_str(&hub::impact::render_json(&report)).unwrap();
    let item = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["kind"] == "shadow-enforced")
        .unwrap_or_else(|| panic!("no shadow item in {report:#}"));
    assert_eq!(
        item["message"],
        "plan `standard` leaves shadow mode and will refuse: it would have refused alice 15 times in the last hour"
    );
    assert_eq!(item["users"], json!(["alice"]));
    let revisions = browser.get("/dashboard/revisions").await;
    assert!(
        revisions
            .text
            .contains("it would have refused alice 15 times in the last hour"),
        "{}",
        revisions.text
    );

    publish(&app, "enforce the standard plan").await;
    let refused = gateway
        .wait_for(|response| response.status == 429, "GET", "/pets/list", &key)
        .await;
    assert!(!refused.has("gatehouse-shadow-refusal"), "{}", refused.head);
    drop(gateway);
    hub.stop().await;
}

async fn a_shadowed_narrowing_policy_records_what_it_would_refuse_and_refuses_once_enforced(app: TestApp) {
    let key = seed(
        &app,
        json!({ "name": "gold", "rate_limit": { "requests": 1000, "window_seconds": 1 } }),
        &[
            json!({ "name": "partners-all", "groups": ["partners"], "plan": "gold", "apis": [{ "api": "pets" }] }),
            json!({ "name": "partners-read", "groups": ["partners"], "plan": "gold", "mode": "shadow",
                "replaces": ["partners-all"], "apis": [{ "api": "pets", "methods": ["GET"] }] }),
        ],
    )
    .await;
    let token = publish_and_token(&app).await;
    let hub = Hub::serve(app.store.clone()).await;
    let gateway = Gateway::follow(&hub.url, &token).await;

    let read = gateway.call("GET", "/pets/list", &key).await;
    assert_eq!(read.status, 200, "{}", read.head);
    assert!(!read.has("gatehouse-shadow-refusal"), "{}", read.head);
    for _ in 0..3 {
        let write = gateway.call("POST", "/pets/list", &key).await;
        assert_eq!(
            write.status, 200,
            "shadowed, the narrower policy refuses nothing: {}",
            write.head
        );
        assert!(
            write.has("gatehouse-shadow-refusal: policy=partners-read; rule=access_denied"),
            "{}",
            write.head
        );
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while shadow::recent_for(&app.store, "policy", "partners-read", Utc::now())
        .await
        .unwrap()
        != [shadow::RefusedUser {
            user: Some("alice".into()),
            requests: 3,
        }]
    {
        assert!(Instant::now() < deadline, "the would-be refusals did not reach the hub");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut browser = SignedIn::admin(&app).await;
    let page = browser.get("/dashboard/policies/partners-read").await;
    assert!(
        page.text
            .contains("this policy would have refused alice 3 times in the last hour"),
        "{}",
        page.text
    );

    apply_manifests(&app, without_shadow).await;
    publish(&app, "enforce partners-read").await;
    let refused = gateway
        .wait_for(|response| response.status == 403, "POST", "/pets/list", &key)
        .await;
    assert!(refused.has("access_denied"), "{}", refused.head);
    assert_eq!(gateway.call("GET", "/pets/list", &key).await.status, 200);
    drop(gateway);
    hub.stop().await;
}

/// An API `pets`, group `partners`, `plan`, `policies`, and alice in partners with a key; returns the key.
async fn seed(app: &TestApp, plan: Value, policies: &[Value]) -> String {
    let upstream = upstream().await;
    app.create(
        "/api/v1/apis",
        json!({ "name": "pets", "route": { "path_prefix": "/pets" }, "upstream": { "targets": [{ "url": upstream }] } }),
    )
    .await;
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    app.create("/api/v1/plans", plan).await;
    for policy in policies {
        app.create("/api/v1/access-policies", policy.clone()).await;
    }
    app.create("/api/v1/users", json!({ "name": "alice", "groups": ["partners"] }))
        .await;
    let application = app
        .create("/api/v1/applications", json!({ "name": "billing", "owner": "alice" }))
        .await;
    let issued = app
        .create(
            &format!("/api/v1/applications/{}/keys", application["id"].as_str().unwrap()),
            json!({ "name": "ci" }),
        )
        .await;
    issued["secret"].as_str().unwrap().to_owned()
}

/// Publishes the first revision and returns a gateway token.
async fn publish_and_token(app: &TestApp) -> String {
    app.create("/api/v1/gateways", json!({ "name": "edge-1" })).await;
    let issued = app
        .create("/api/v1/gateways/edge-1/tokens", json!({ "name": "edge-1" }))
        .await;
    publish(app, "first").await;
    issued["secret"].as_str().unwrap().to_owned()
}

async fn publish(app: &TestApp, message: &str) {
    let published = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": message })))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
}

/// A manifest's text without its `mode: shadow` lines: every rule enforced.
fn without_shadow(text: &str) -> String {
    text.lines()
        .filter(|line| line.trim() != "mode: shadow")
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Exports the hub's manifests, edits each file's text and applies them (without publishing).
async fn apply_manifests(app: &TestApp, edit: impl Fn(&str) -> String) {
    let exported = app.admin("GET", "/api/v1/manifests", None).await;
    assert_eq!(exported.status, StatusCode::OK, "{}", exported.text);
    let files: Vec<Value> = exported.json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| json!({ "path": file["path"], "text": edit(file["text"].as_str().unwrap()) }))
        .collect();
    let applied = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": files })))
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
}

/// A signed-in dashboard session of a new admin, through the router.
struct SignedIn<'a> {
    app: &'a TestApp,
    cookie: String,
}

/// A dashboard page's text.
struct Page {
    text: String,
}

impl<'a> SignedIn<'a> {
    async fn admin(app: &'a TestApp) -> SignedIn<'a> {
        const PASSWORD: &str = "correct horse battery";
        hub::domain::objects::create::<hub::model::User>(
            &app.store,
            &hub::identity::Actor::system(),
            hub::model::user::UserInput {
                name: "root".into(),
                email: None,
                display_name: String::new(),
                role: Role::Admin,
                groups: Vec::new(),
                disabled: false,
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
        let mut session = SignedIn {
            app,
            cookie: String::new(),
        };
        let form = session.send(axum::http::Request::get("/dashboard/sign-in")).await;
        let marker = r#"name="csrf" value=""#;
        let start = form.find(marker).expect("a CSRF field") + marker.len();
        let csrf = form[start..start + form[start..].find('"').unwrap()].to_owned();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("csrf", csrf.as_str()), ("name", "root"), ("password", PASSWORD)])
            .finish();
        let request = axum::http::Request::post("/dashboard/sign-in")
            .header(axum::http::header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        session.send_body(request, body).await;
        assert!(!session.cookie.is_empty(), "signed in");
        session
    }

    async fn get(&mut self, path: &str) -> Page {
        Page {
            text: self.send(axum::http::Request::get(path)).await,
        }
    }

    async fn send(&mut self, request: axum::http::request::Builder) -> String {
        self.send_body(request, String::new()).await
    }

    async fn send_body(&mut self, mut request: axum::http::request::Builder, body: String) -> String {
        if !self.cookie.is_empty() {
            request = request.header(axum::http::header::COOKIE, &self.cookie);
        }
        let request = request.body(axum::body::Body::from(body)).unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        if let Some(cookie) = response.headers().get(axum::http::header::SET_COOKIE) {
            self.cookie = cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// An upstream that answers 200 to anything.
async fn upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// `hub::server::serve` on a loopback port, as `gatehouse hub` runs it.
struct Hub {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Hub {
    async fn serve(store: hub::Store) -> Hub {
        let config = hub::HubConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..hub::HubConfig::default()
        };
        let listener = hub::server::bind(&config).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            hub::server::serve(
                listener,
                store,
                &config,
                hub::distribution::RevisionFeed::default(),
                shutdown,
            )
            .await
        });
        Hub { url, stop, served }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(5), self.served).await;
    }
}

/// `gateway::start` following the hub, reporting usage every second.
struct Gateway {
    proxy: std::net::SocketAddr,
    data_dir: std::path::PathBuf,
    stop: Option<tokio::sync::watch::Sender<bool>>,
}

/// A response's status and head (status line and headers, lower-cased).
struct Answer {
    status: u16,
    head: String,
}

impl Answer {
    fn has(&self, text: &str) -> bool {
        self.head.contains(text)
    }
}

impl Gateway {
    async fn follow(url: &str, token: &str) -> Gateway {
        let data_dir = std::env::temp_dir().join(format!("gatehouse-shadow-{}", uuid::Uuid::new_v4().simple()));
        let config = gateway::config::GatewayConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data_dir.clone(),
            hub_url: Some(url.to_owned()),
            hub_token: Some(token.to_owned()),
            usage_interval: Duration::from_secs(1),
            workers: 1,
            ..gateway::config::GatewayConfig::default()
        };
        let started = gateway::start::start(config).await.expect("the gateway starts");
        let (proxy, admin) = (started.proxy_address, started.admin_address);
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(started.serve(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
        let deadline = Instant::now() + Duration::from_secs(10);
        while request(admin, "GET", "/readyz", None).await.status != 200 {
            assert!(Instant::now() < deadline, "the gateway did not get the revision");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Gateway {
            proxy,
            data_dir,
            stop: Some(stop),
        }
    }

    async fn call(&self, method: &str, path: &str, api_key: &str) -> Answer {
        request(self.proxy, method, path, Some(api_key)).await
    }

    /// Calls until an answer satisfies `done` (a new revision takes a moment to arrive).
    async fn wait_for(&self, done: impl Fn(&Answer) -> bool, method: &str, path: &str, api_key: &str) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = self.call(method, path, api_key).await;
            if done(&answer) {
                return answer;
            }
            assert!(Instant::now() < deadline, "still answering: {}", answer.head);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// One HTTP/1.1 request on its own connection; status 0 when no answer came.
async fn request(address: std::net::SocketAddr, method: &str, path: &str, api_key: Option<&str>) -> Answer {
    let none = Answer {
        status: 0,
        head: String::new(),
    };
    let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
        return none;
    };
    let key = api_key.map(|key| format!("x-api-key: {key}\r\n")).unwrap_or_default();
    let head =
        format!("{method} {path} HTTP/1.1\r\nhost: {address}\r\n{key}content-length: 0\r\nconnection: close\r\n\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return none;
    }
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
    Answer {
        status: text
            .split(' ')
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or(0),
        head: text,
    }
}
