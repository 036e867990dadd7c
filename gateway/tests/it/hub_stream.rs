//! Following a hub: gateways started as `gatehouse gateway --hub` starts them, against a small
//! peer speaking the hub's side of the protocol over real HTTP on loopback (the snapshot stream
//! and the status endpoint). Snapshots arrive and are enforced, refusals are reported, the hub
//! may vanish, come back on the same port, or refuse the token, and the gateway keeps serving.
//! The peer takes usage reports too, for `usage`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gateway::config::GatewayConfig;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::support::{ALICE_KEY, TestGateway, client, snapshot};
use crate::upstream::Upstream;

const TOKEN: &str = "ghg_gateway_token_for_tests";

#[tokio::test]
async fn published_snapshots_are_enforced_and_kept_as_the_last_good_one() {
    let (one, two) = (Upstream::start("one").await, Upstream::start("two").await);
    let hub = HubPeer::start().await;
    hub.publish(&revision(snapshot(&one.url(), 100), 1));
    let data_dir = TempDir::new();
    let gateway = TestGateway::from_config(config(&hub, data_dir.path())).await;

    eventually("the first snapshot is enforced", Duration::from_secs(5), || {
        upstream_is(&gateway, "one")
    })
    .await;
    let first = hub.stream_requests()[0].clone();
    assert_eq!(first.authorization.as_deref(), Some(&*format!("Bearer {TOKEN}")));
    assert_eq!(first.accept.as_deref(), Some("text/event-stream"));
    assert_eq!(first.last_event_id, None, "nothing applied yet");
    assert_eq!(ready_revision(&gateway).await, Some(1));

    let published = Instant::now();
    hub.publish(&revision(snapshot(&two.url(), 100), 2));
    eventually("the second snapshot is enforced", Duration::from_secs(1), || {
        upstream_is(&gateway, "two")
    })
    .await;
    assert!(published.elapsed() < Duration::from_secs(1));
    let kept: Value = serde_json::from_slice(&std::fs::read(data_dir.path().join("last-good-snapshot.json")).unwrap())
        .expect("the last good snapshot is JSON");
    assert_eq!(kept["revision"], 2);

    let report = hub
        .wait_for_status(0, "a status with revision 2", |status| status["applied_revision"] == 2)
        .await;
    assert_eq!(report["last_error"], Value::Null);
    assert_eq!(report["version"], env!("CARGO_PKG_VERSION"));
    let instance = report["instance"].as_str().unwrap();
    assert!(instance.ends_with(&format!("-{}", std::process::id())), "{instance}");
    let started_at = report["started_at"].as_str().unwrap();
    assert!(
        started_at.len() >= 20 && started_at.ends_with('Z') && &started_at[10..11] == "T",
        "{started_at}"
    );
    assert_eq!(hub.stream_requests().len(), 1, "one stream carried both snapshots");
}

#[tokio::test]
async fn a_refused_snapshot_is_reported_and_the_old_one_keeps_serving() {
    let upstream = Upstream::start("one").await;
    let hub = HubPeer::start().await;
    hub.publish(&revision(snapshot(&upstream.url(), 100), 1));
    let data_dir = TempDir::new();
    let gateway = TestGateway::from_config(config(&hub, data_dir.path())).await;
    eventually("the first snapshot is enforced", Duration::from_secs(5), || {
        upstream_is(&gateway, "one")
    })
    .await;

    // Compiles to nothing: an access rule names a plan that does not exist.
    let mut broken = revision(snapshot(&upstream.url(), 100), 2);
    broken["access_rules"][0]["plan"] = "platinum".into();
    hub.publish(&broken);
    let report = hub
        .wait_for_status(0, "revision 2 refused", |status| status["last_error"]["revision"] == 2)
        .await;
    assert_eq!(
        report["last_error"]["message"],
        "access_rules[0].plan: unknown plan `platinum`"
    );
    assert_eq!(report["applied_revision"], 1);
    assert!(upstream_is(&gateway, "one").await, "the old snapshot keeps serving");

    // Does not even parse.
    hub.publish_raw(3, "{\"format\": 1, \"apis\": 7}");
    let report = hub
        .wait_for_status(0, "revision 3 refused", |status| status["last_error"]["revision"] == 3)
        .await;
    let message = report["last_error"]["message"].as_str().unwrap();
    assert!(message.starts_with("apis: "), "{message}");
    assert_eq!(report["applied_revision"], 1);
    assert_eq!(ready_revision(&gateway).await, Some(1));

    // The next good revision applies and clears the error.
    hub.publish(&revision(snapshot(&upstream.url(), 100), 4));
    let report = hub
        .wait_for_status(0, "revision 4 applied", |status| status["applied_revision"] == 4)
        .await;
    assert_eq!(report["last_error"], Value::Null);

    // Heartbeats carry the traffic seen since start, refusals included: counts only grow, so
    // a report past the highest seen so far was counted after this request.
    let highest = |field: &str| {
        hub.statuses()
            .iter()
            .filter_map(|status| status[field].as_u64())
            .max()
            .unwrap_or(0)
    };
    let (requests, refusals) = (highest("requests"), highest("refusals"));
    let response = client().get(gateway.url("/nowhere")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let report = hub
        .wait_for_status(0, "a heartbeat counting the refusal", |status| {
            status["refusals"].as_u64() > Some(refusals)
        })
        .await;
    assert!(report["requests"].as_u64() > Some(requests), "{report}");
    assert!(
        report["requests"].as_u64() >= Some(3),
        "alice's requests count too: {report}"
    );
}

#[tokio::test]
async fn the_gateway_serves_while_the_hub_is_away_and_catches_up_when_it_returns() {
    let (one, two) = (Upstream::start("one").await, Upstream::start("two").await);
    let mut hub = HubPeer::start().await;
    hub.publish(&revision(snapshot(&one.url(), 100), 1));
    let data_dir = TempDir::new();
    let gateway = TestGateway::from_config(config(&hub, data_dir.path())).await;
    eventually("the first snapshot is enforced", Duration::from_secs(5), || {
        upstream_is(&gateway, "one")
    })
    .await;

    hub.stop().await;
    hub.publish(&revision(snapshot(&two.url(), 100), 2));
    for _ in 0..5 {
        assert!(upstream_is(&gateway, "one").await, "serving without the hub");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    hub.restart().await;
    eventually("the gateway catches up", Duration::from_secs(5), || {
        upstream_is(&gateway, "two")
    })
    .await;
    let reconnected = hub
        .stream_requests()
        .into_iter()
        .find(|request| request.epoch == 2)
        .expect("the gateway reconnected");
    assert_eq!(reconnected.last_event_id.as_deref(), Some("1"));
}

#[tokio::test]
async fn a_gateway_started_while_the_hub_is_down_serves_the_last_good_snapshot() {
    let (one, two) = (Upstream::start("one").await, Upstream::start("two").await);
    let mut hub = HubPeer::start().await;
    hub.publish(&revision(snapshot(&one.url(), 100), 1));
    let data_dir = TempDir::new();
    let first = TestGateway::from_config(config(&hub, data_dir.path())).await;
    eventually("the first gateway enforces revision 1", Duration::from_secs(5), || {
        upstream_is(&first, "one")
    })
    .await;
    drop(first);
    hub.stop().await;

    let gateway = TestGateway::from_config(config(&hub, data_dir.path())).await;
    assert_eq!(ready_revision(&gateway).await, Some(1), "ready at once, from disk");
    assert!(upstream_is(&gateway, "one").await);

    hub.publish(&revision(snapshot(&two.url(), 100), 2));
    hub.restart().await;
    eventually("the gateway catches up", Duration::from_secs(5), || {
        upstream_is(&gateway, "two")
    })
    .await;
    let reconnected = hub
        .stream_requests()
        .into_iter()
        .find(|request| request.epoch == 2)
        .expect("the gateway connected");
    assert_eq!(
        reconnected.last_event_id.as_deref(),
        Some("1"),
        "the revision from disk"
    );
}

#[tokio::test]
async fn a_refused_token_is_retried_and_nothing_breaks() {
    let upstream = Upstream::start("one").await;
    let hub = HubPeer::start().await;
    hub.publish(&revision(snapshot(&upstream.url(), 100), 1));
    hub.refuse_tokens(true);
    let data_dir = TempDir::new();
    let gateway = TestGateway::from_config(config(&hub, data_dir.path())).await;

    eventually("the gateway retries", Duration::from_secs(5), || async {
        hub.stream_requests().iter().filter(|request| !request.accepted).count() >= 2
    })
    .await;
    let health = client().get(gateway.admin_url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(ready_revision(&gateway).await, None, "nothing to enforce yet");
    let response = client().get(gateway.url("/pets/v1/x")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "the proxy still answers");

    // The token is re-issued.
    hub.refuse_tokens(false);
    eventually("the snapshot arrives", Duration::from_secs(5), || {
        upstream_is(&gateway, "one")
    })
    .await;

    // Revoked again: the hub closes the stream, the gateway is refused, and keeps serving.
    let refused_before = hub.stream_requests().iter().filter(|request| !request.accepted).count();
    hub.refuse_tokens(true);
    hub.close_streams();
    eventually("the gateway is refused again", Duration::from_secs(5), || async {
        hub.stream_requests().iter().filter(|request| !request.accepted).count() > refused_before
    })
    .await;
    assert!(upstream_is(&gateway, "one").await, "the snapshot in force stays");
}

#[test]
fn the_gateway_token_never_prints() {
    let config = GatewayConfig {
        hub_url: Some("https://hub.example.com".into()),
        hub_token: Some(TOKEN.into()),
        ..GatewayConfig::default()
    };
    let printed = format!("{config:?}");
    assert!(
        printed.contains("hub.example.com") && !printed.contains(TOKEN),
        "{printed}"
    );
    let settings =
        gateway::source::hub::HubSettings::new("https://hub.example.com".into(), TOKEN.into(), "gw-1".into());
    let printed = format!("{settings:?}");
    assert!(!printed.contains(TOKEN), "{printed}");
}

#[test]
fn hub_settings_are_checked() {
    use gateway::source::hub::check_settings;
    assert!(check_settings("https://hub.example.com/", TOKEN).is_ok());
    assert!(check_settings("http://127.0.0.1:8080", TOKEN).is_ok());
    for (url, token, expected) in [
        (
            "ftp://hub.example.com",
            TOKEN,
            "hub_url: it must start with http:// or https://",
        ),
        (
            "hub.example.com",
            TOKEN,
            "hub_url: it must start with http:// or https://",
        ),
        (
            "https://gw:secret@hub.example.com",
            TOKEN,
            "hub_url: it may not hold credentials: the token is the gateway's only one",
        ),
        ("https://hub.example.com", "", "hub_token: it is empty"),
        (
            "https://hub.example.com",
            "two words",
            "hub_token: it may hold only visible ASCII characters",
        ),
    ] {
        let error = check_settings(url, token).expect_err(url);
        assert_eq!(error.to_string(), expected, "{url} {token}");
    }
}

// === the gateway under test ===

pub(crate) fn config(hub: &HubPeer, data_dir: &Path) -> GatewayConfig {
    GatewayConfig {
        data_dir: data_dir.to_path_buf(),
        hub_url: Some(hub.url()),
        hub_token: Some(TOKEN.into()),
        status_interval: Duration::from_millis(200),
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(200),
        ..GatewayConfig::default()
    }
}

pub(crate) fn revision(mut snapshot: Value, revision: u64) -> Value {
    snapshot["revision"] = revision.into();
    snapshot
}

/// Whether alice's request reaches the upstream named `name`.
async fn upstream_is(gateway: &TestGateway, name: &str) -> bool {
    let Ok(response) = client()
        .get(gateway.url("/pets/v1/x"))
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
    else {
        return false;
    };
    if response.status() != StatusCode::OK {
        return false;
    }
    let body: Value = response.json().await.unwrap_or_default();
    body["upstream"] == name
}

/// The revision `/readyz` reports, or `None` while the gateway is not ready.
pub(crate) async fn ready_revision(gateway: &TestGateway) -> Option<u64> {
    let response = client().get(gateway.admin_url("/readyz")).send().await.unwrap();
    if response.status() != StatusCode::OK {
        return None;
    }
    response.json::<Value>().await.unwrap()["revision"].as_u64()
}

/// Polls `condition` until it holds; panics after `within`.
pub(crate) async fn eventually<F, Fut>(what: &str, within: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !condition().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// === the hub's side of the protocol ===

/// How often the peer sends `: keepalive` (the real hub: every 15 s).
const KEEPALIVE: Duration = Duration::from_millis(100);

/// A stream request as the peer saw it.
#[derive(Debug, Clone)]
struct StreamRequest {
    /// 1 for the first server, 2 after the first restart, …
    epoch: u64,
    authorization: Option<String>,
    accept: Option<String>,
    last_event_id: Option<String>,
    /// Answered 200 (not 401).
    accepted: bool,
}

/// A revision as the hub streams it: its number and its document on one line.
#[derive(Debug, Clone)]
struct Published {
    revision: u64,
    data: String,
}

struct PeerState {
    epoch: AtomicU64,
    refuse_tokens: AtomicBool,
    latest: watch::Sender<Option<Published>>,
    /// Bumped to end every open stream.
    close: watch::Sender<u64>,
    /// False while the server is stopping or stopped: streams end, new ones get 503.
    running: watch::Sender<bool>,
    stream_requests: Mutex<Vec<StreamRequest>>,
    statuses: Mutex<Vec<Value>>,
    usage_reports: Mutex<Vec<Value>>,
}

/// The hub's side of the stream and status endpoints; its state (the latest revision, what it
/// saw) outlives stops and restarts, as a hub's database would.
pub(crate) struct HubPeer {
    address: SocketAddr,
    state: Arc<PeerState>,
    server: Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl HubPeer {
    pub(crate) async fn start() -> HubPeer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let state = Arc::new(PeerState {
            epoch: AtomicU64::new(0),
            refuse_tokens: AtomicBool::new(false),
            latest: watch::channel(None).0,
            close: watch::channel(0).0,
            running: watch::channel(false).0,
            stream_requests: Mutex::new(Vec::new()),
            statuses: Mutex::new(Vec::new()),
            usage_reports: Mutex::new(Vec::new()),
        });
        let mut hub = HubPeer {
            address: listener.local_addr().unwrap(),
            state,
            server: None,
        };
        hub.serve(listener);
        hub
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        self.state.epoch.fetch_add(1, Ordering::SeqCst);
        self.state.running.send_replace(true);
        let app = axum::Router::new()
            .route(gateway::source::hub::STREAM_PATH, axum::routing::get(stream))
            .route(gateway::source::hub::STATUS_PATH, axum::routing::post(status))
            .route(gateway::source::hub::USAGE_PATH, axum::routing::post(usage))
            .with_state(self.state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        self.server = Some((stop, task));
    }

    /// Ends every stream and stops listening; the port is free when this returns.
    pub(crate) async fn stop(&mut self) {
        let (stop, task) = self.server.take().expect("the hub is running");
        self.state.running.send_replace(false);
        let _ = stop.send(());
        let abort = task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
            abort.abort();
        }
    }

    /// Listens again on the same port.
    pub(crate) async fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match tokio::net::TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                Err(error) if Instant::now() < deadline => {
                    eprintln!("rebinding {}: {error}", self.address);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("cannot listen on {} again: {error}", self.address),
            }
        };
        self.serve(listener);
    }

    pub(crate) fn publish(&self, snapshot: &Value) {
        let revision = snapshot["revision"].as_u64().expect("a revision number");
        self.publish_raw(revision, &snapshot.to_string());
    }

    fn publish_raw(&self, revision: u64, data: &str) {
        assert!(!data.contains('\n'), "the hub sends a snapshot on one line");
        self.state.latest.send_replace(Some(Published {
            revision,
            data: data.to_owned(),
        }));
    }

    /// Answer 401 to the gateway token (it is revoked), or stop doing so (it is re-issued).
    fn refuse_tokens(&self, refuse: bool) {
        self.state.refuse_tokens.store(refuse, Ordering::SeqCst);
    }

    /// Ends the open streams, as the hub does when it revokes a token.
    fn close_streams(&self) {
        self.state.close.send_modify(|generation| *generation += 1);
    }

    fn stream_requests(&self) -> Vec<StreamRequest> {
        self.state.stream_requests.lock().unwrap().clone()
    }

    fn statuses(&self) -> Vec<Value> {
        self.state.statuses.lock().unwrap().clone()
    }

    /// Every usage report taken, in order.
    pub(crate) fn usage_reports(&self) -> Vec<Value> {
        self.state.usage_reports.lock().unwrap().clone()
    }

    /// The first status report from the `since`th on that matches `condition`, waiting up to
    /// 5 s for it.
    async fn wait_for_status(&self, since: usize, what: &str, condition: impl Fn(&Value) -> bool) -> Value {
        let mut found = None;
        eventually(what, Duration::from_secs(5), || {
            found = self.statuses().into_iter().skip(since).find(|status| condition(status));
            std::future::ready(found.is_some())
        })
        .await;
        found.unwrap()
    }
}

impl PeerState {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let expected = format!("Bearer {TOKEN}");
        !self.refuse_tokens.load(Ordering::SeqCst)
            && headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()) == Some(&*expected)
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json!({ "type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "the gateway token is revoked" })
            .to_string(),
    )
        .into_response()
}

/// `GET /api/v1/gateway/stream`: the latest revision at once (unless `Last-Event-ID` names
/// it), then each one published, with keepalive comments between.
async fn stream(State(state): State<Arc<PeerState>>, headers: HeaderMap) -> Response {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let accepted = state.authorized(&headers);
    let last_event_id = text(header::HeaderName::from_static("last-event-id"));
    state.stream_requests.lock().unwrap().push(StreamRequest {
        epoch: state.epoch.load(Ordering::SeqCst),
        authorization: text(header::AUTHORIZATION),
        accept: text(header::ACCEPT),
        last_event_id: last_event_id.clone(),
        accepted,
    });
    if !accepted {
        return unauthorized();
    }
    let mut running = state.running.subscribe();
    if !*running.borrow() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut latest = state.latest.subscribe();
    let mut close = state.close.subscribe();
    let (sender, receiver) = mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let mut sent = last_event_id.and_then(|id| id.parse::<u64>().ok());
        if sender.send(Bytes::from_static(b": connected\r\n\r\n")).await.is_err() {
            return;
        }
        loop {
            let published = latest.borrow_and_update().clone();
            if let Some(published) = published
                && Some(published.revision) != sent
            {
                let event = format!(
                    "event: snapshot\r\nid: {}\r\ndata: {}\r\n\r\n",
                    published.revision, published.data
                );
                // In two chunks, cut mid-line: the gateway must put lines back together.
                let event = Bytes::from(event);
                let middle = event.len() / 2;
                for chunk in [event.slice(..middle), event.slice(middle..)] {
                    if sender.send(chunk).await.is_err() {
                        return;
                    }
                }
                sent = Some(published.revision);
            }
            tokio::select! {
                changed = latest.changed() => if changed.is_err() { return },
                _ = close.changed() => return,
                () = async { let _ = running.wait_for(|running| !running).await; } => return,
                () = tokio::time::sleep(KEEPALIVE) => {
                    if sender.send(Bytes::from_static(b": keepalive\r\n")).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), receiver))
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// `POST /api/v1/gateway/status`: recorded, answered 204.
async fn status(
    State(state): State<Arc<PeerState>>,
    headers: HeaderMap,
    axum::Json(report): axum::Json<Value>,
) -> Response {
    if !state.authorized(&headers) {
        return unauthorized();
    }
    state.statuses.lock().unwrap().push(report);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /api/v1/gateway/usage`: recorded, answered 204.
async fn usage(
    State(state): State<Arc<PeerState>>,
    headers: HeaderMap,
    axum::Json(report): axum::Json<Value>,
) -> Response {
    if !state.authorized(&headers) {
        return unauthorized();
    }
    state.usage_reports.lock().unwrap().push(report);
    StatusCode::NO_CONTENT.into_response()
}

// === a scratch directory ===

pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> TempDir {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "gatehouse-hub-stream-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
