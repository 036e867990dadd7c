//! Proxying: routing and versions, headers up and down, streaming, WebSockets, failures.

use http::StatusCode;
use serde_json::Value;

use crate::support::{ALICE_KEY, TestGateway, client, snapshot};
use crate::upstream::{Upstream, channel_body};

async fn get(
    gateway: &TestGateway,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = client().get(gateway.url(path)).header("x-api-key", ALICE_KEY);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn routes_and_versions_reach_the_right_path() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;

    let (status, _, body) = get(&gateway, "/pets/v1/dogs?size=big", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["uri"], "/dogs?size=big", "prefix and version segment stripped");
    let (_, _, body) = get(&gateway, "/pets/dogs", &[("api-version", "2")]).await;
    assert_eq!(body["uri"], "/dogs", "header-selected version");
    let (_, _, body) = get(&gateway, "/hr/people", &[("x-hr-key", ALICE_KEY)]).await;
    assert_eq!(body["uri"], "/base/hr/people", "the target's base path, prefix kept");
    let (_, _, body) = get(&gateway, "/hr/people?key=ghk_alice_key_for_tests", &[]).await;
    assert_eq!(
        body["upstream"], "one",
        "the key may come in the query where the API allows it"
    );
}

#[tokio::test]
async fn headers_are_forwarded_and_hop_by_hop_ones_stay_behind() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    let (status, headers, body) = get(
        &gateway,
        "/pets/v1/x",
        &[
            ("x-request-id", "req-42"),
            ("x-forwarded-for", "10.1.1.1"),
            ("x-gatehouse-user", "mallory"),
            ("connection", "x-secret"),
            ("x-secret", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let sent = &body["headers"];
    assert_eq!(sent["x-request-id"], "req-42");
    assert_eq!(sent["x-forwarded-for"], "10.1.1.1, 127.0.0.1");
    assert_eq!(sent["x-forwarded-proto"], "http");
    assert_eq!(sent["x-forwarded-host"], gateway.address.to_string());
    assert_eq!(sent["host"], upstream.address.to_string());
    assert_eq!(
        sent["x-gatehouse-user"], "alice",
        "identity comes from the gateway, not the client"
    );
    assert_eq!(sent["x-gatehouse-application"], "alice-app");
    assert!(sent.get("x-api-key").is_none(), "the credential stays at the gateway");
    assert!(sent.get("x-secret").is_none() && sent.get("connection").is_none());
    assert_eq!(headers["x-request-id"], "req-42");
    assert!(
        headers.get("x-hop").is_none(),
        "the upstream's hop-by-hop headers stay behind"
    );
    let (_, headers, _) = get(&gateway, "/pets/v1/x", &[]).await;
    assert!(
        !headers["x-request-id"].is_empty(),
        "a request id is made when none is sent"
    );
}

#[tokio::test]
async fn bodies_stream_both_ways_without_buffering() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    let (sender, body) = channel_body();
    let response = tokio::spawn(
        client()
            .post(gateway.url("/pets/v1/stream"))
            .header("x-api-key", ALICE_KEY)
            .body(reqwest::Body::wrap(body))
            .send(),
    );
    let mut chunk = vec![b'a'; 64 * 1024];
    sender.send(chunk.clone().into()).await.unwrap();
    let mut response = response.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Each chunk comes back before the next is sent: nothing between buffers the body.
    let mut received = 0;
    for round in 0..16u8 {
        let mut got = 0;
        while got < chunk.len() {
            let part = tokio::time::timeout(std::time::Duration::from_secs(5), response.chunk())
                .await
                .expect("echoed in time")
                .unwrap()
                .unwrap();
            got += part.len();
        }
        received += got;
        chunk.fill(b'b' + round);
        sender.send(chunk.clone().into()).await.unwrap();
    }
    drop(sender);
    while let Some(part) = response.chunk().await.unwrap() {
        received += part.len();
    }
    assert_eq!(received, 17 * 64 * 1024);
}

#[tokio::test]
async fn websockets_pass_through() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    let mut request = format!("ws://{}/pets/v1/ws", gateway.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert("x-api-key", ALICE_KEY.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade goes through");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    for text in ["hello", "through", "the gateway"] {
        socket.send(Message::text(text)).await.unwrap();
        let echoed = socket.next().await.unwrap().unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), text);
    }
    socket.close(None).await.unwrap();
}

#[tokio::test]
async fn weights_split_traffic_and_a_dead_target_is_retried_then_ejected() {
    let (one, two) = (Upstream::start("one").await, Upstream::start("two").await);
    let mut document = snapshot(&one.url(), 100);
    document["apis"][0]["upstream"]["targets"] =
        serde_json::json!([{ "url": one.url(), "weight": 75 }, { "url": two.url(), "weight": 25 }]);
    let gateway = TestGateway::start(document.clone()).await;
    for _ in 0..400 {
        assert_eq!(get(&gateway, "/pets/v1/x", &[]).await.0, StatusCode::OK);
    }
    let share = one.hits() as f64 / 400.0;
    assert!((0.65..=0.85).contains(&share), "target one got {share}");

    // A target that refuses connections: GETs are retried on the other, then it is ejected.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    document["apis"][0]["upstream"]["targets"] =
        serde_json::json!([{ "url": format!("http://{dead}") }, { "url": two.url() }]);
    document["revision"] = 2.into();
    gateway.runtime.apply(crate::support::parse(&document)).unwrap();
    let before = two.hits();
    for _ in 0..50 {
        assert_eq!(
            get(&gateway, "/pets/v1/x", &[]).await.0,
            StatusCode::OK,
            "no request fails"
        );
    }
    assert_eq!(two.hits() - before, 50);
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains(&format!(
            "gatehouse_upstream_target_up{{gatehouse_api=\"pets\",gatehouse_target=\"http://{dead}\"}} 0"
        )),
        "{metrics}"
    );

    document["apis"][0]["upstream"]["targets"] = serde_json::json!([{ "url": format!("http://{dead}") }]);
    document["revision"] = 3.into();
    gateway.runtime.apply(crate::support::parse(&document)).unwrap();
    let response = client()
        .get(gateway.url("/pets/v1/x"))
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["rule"], "upstream_unavailable");
}

#[tokio::test]
async fn connections_the_upstream_closed_are_never_reused_for_a_failure() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // An upstream that answers one request per connection and then hangs up without saying
    // so, as one whose keep-alive timeout expired would.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = connections.clone();
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            });
        }
    });
    let gateway = TestGateway::start(snapshot(&format!("http://{address}"), 100)).await;
    for _ in 0..20 {
        let response = client()
            .get(gateway.url("/pets/v1/x"))
            .header("x-api-key", ALICE_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(connections.load(std::sync::atomic::Ordering::Relaxed), 20);
    server.abort();
}

#[tokio::test]
async fn keep_alive_connections_to_the_upstream_are_reused() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    for _ in 0..20 {
        assert_eq!(get(&gateway, "/pets/v1/x", &[]).await.0, StatusCode::OK);
    }
    assert_eq!(upstream.hits(), 20);
    assert_eq!(
        upstream.connections.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "one connection, reused"
    );
}

#[tokio::test]
async fn http2_clients_are_served() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let response = h2
        .get(gateway.url("/pets/v1/x"))
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uri"], "/x", "forwarded upstream over HTTP/1.1");
}

#[tokio::test]
async fn a_slow_upstream_gets_504_after_the_read_timeout() {
    let upstream = Upstream::start("one").await;
    let mut document = snapshot(&upstream.url(), 100);
    document["apis"][0]["upstream"]["read_timeout_ms"] = 200.into();
    let gateway = TestGateway::start(document).await;
    let started = std::time::Instant::now();
    let response = client()
        .get(gateway.url("/pets/v1/slow"))
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1500),
        "answered at the timeout, not when the upstream did"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["rule"], "upstream_timeout");
}

#[tokio::test]
async fn active_health_checks_take_a_failing_target_out() {
    let (good, sick) = (Upstream::start("good").await, Upstream::start("sick").await);
    let mut document = snapshot(&good.url(), 100);
    document["apis"][0]["upstream"] = serde_json::json!({
        "targets": [{ "url": good.url() }, { "url": format!("{}/fail", sick.url()) }],
        "active_health": { "path": "/health", "interval_ms": 100, "timeout_ms": 500 },
        "passive_health": { "failures": 0 }
    });
    let gateway = TestGateway::start(document).await;
    // Wait for the first round of probes, then every request goes to the healthy target.
    for _ in 0..50 {
        if sick.hits() > 0 && good.hits() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let sick_before = sick.hits();
    for _ in 0..40 {
        let (status, _, body) = get(&gateway, "/pets/v1/x", &[]).await;
        assert_eq!((status, body["upstream"].as_str()), (StatusCode::OK, Some("good")));
    }
    assert!(sick.hits() - sick_before <= 2, "only probes reach the sick target");
}

#[tokio::test]
async fn proxy_workers_refuse_a_port_another_process_listens_on() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    for workers in [1, 2, 4] {
        let error = gateway::workers::bind(address, workers)
            .err()
            .expect("the port is taken");
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::AddrInUse,
            "{workers} workers: {error}"
        );
    }
    drop(taken);
    let listeners = gateway::workers::bind(address, 4).expect("free again");
    assert_eq!(listeners.address, address);
}
