//! Per-API edge rules, through a real gateway to a real upstream: CORS (and the preflight the
//! gateway answers), IP allow and deny lists with trusted proxies, the body size limit (declared
//! and streamed), header transforms and path rewrite, each refusal with its problem+json.

use http::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{ALICE_KEY, TestGateway, client, metric_sum, parse, snapshot};
use crate::upstream::Upstream;

const ALLOWED: &str = "http://app.example.test";

/// The shared test snapshot plus one API per rule set, each granted to alice (group staff).
fn edge_snapshot(upstream: &str) -> Value {
    let mut snapshot = snapshot(upstream, 100);
    let apis = [
        (
            "cors",
            json!({ "cors": {
                "allow_origins": [ALLOWED],
                "allow_methods": ["GET", "PUT"],
                "allow_headers": ["x-api-key", "x-custom"],
                "expose_headers": ["x-upstream"],
                "allow_credentials": true,
                "max_age_seconds": 600
            } }),
        ),
        ("open-cors", json!({ "cors": { "allow_origins": ["*"] } })),
        ("allow", json!({ "ip_allow": ["10.0.0.0/8", "2001:db8::/32"] })),
        ("deny", json!({ "ip_deny": ["127.0.0.0/8"] })),
        (
            "proxied",
            json!({ "ip_allow": ["203.0.113.0/24", "2001:db8::/32"], "trusted_proxies": ["127.0.0.1", "192.0.2.0/24"] }),
        ),
        ("untrusting", json!({ "ip_allow": ["203.0.113.0/24"] })),
        ("small", json!({ "max_body_bytes": 100 })),
        (
            "transform",
            json!({
                "request_headers": {
                    "remove": ["x-secret"],
                    "rename": [{ "from": "x-old", "to": "x-new" }],
                    "add": [{ "name": "x-tenant", "value": "acme" }]
                },
                "response_headers": {
                    "remove": ["x-upstream"],
                    "add": [{ "name": "x-served-by", "value": "gatehouse" }]
                },
                "path_rewrite": { "kind": "template", "template": "/v2/{rest}" }
            }),
        ),
        (
            "moved",
            json!({ "path_rewrite": { "kind": "prefix", "from": "/old", "to": "/new" } }),
        ),
    ];
    for (name, edge) in apis {
        snapshot["apis"].as_array_mut().unwrap().push(json!({
            "name": name,
            "path_prefix": format!("/{name}"),
            "strip_prefix": true,
            "upstream": { "targets": [{ "url": upstream }] },
            "edge": edge
        }));
        snapshot["access_rules"].as_array_mut().unwrap().push(json!({
            "policy": format!("staff-{name}"), "groups": ["staff"], "api": name, "plan": "unlimited"
        }));
    }
    snapshot
}

async fn problem(response: reqwest::Response, status: StatusCode, rule: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["rule"], rule, "{problem}");
    assert_eq!(problem["status"], status.as_u16());
    problem
}

#[tokio::test]
async fn cors_preflight_is_answered_before_authentication_and_answers_carry_the_headers() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(edge_snapshot(&upstream.url())).await;
    // A preflight carries no credentials; the gateway answers it, the upstream never sees it.
    let preflight = client()
        .request(reqwest::Method::OPTIONS, gateway.url("/cors/items/1"))
        .header("origin", ALLOWED)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "x-api-key, x-custom")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], ALLOWED);
    assert_eq!(headers["access-control-allow-methods"], "GET, PUT");
    assert_eq!(headers["access-control-allow-headers"], "x-api-key, x-custom");
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-max-age"], "600");
    assert_eq!(headers["vary"], "Origin");
    assert_eq!(upstream.hits(), 0);

    // Another origin's preflight is refused, naming the rule.
    let denied = client()
        .request(reqwest::Method::OPTIONS, gateway.url("/cors/items/1"))
        .header("origin", "http://evil.example.test")
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert!(!denied.headers().contains_key("access-control-allow-origin"));
    let body = problem(denied, StatusCode::FORBIDDEN, "cors_origin_denied").await;
    assert!(
        body["detail"].as_str().unwrap().contains("http://evil.example.test"),
        "{body}"
    );

    // An actual request from the allowed origin: CORS headers on the answer...
    let allowed = client()
        .put(gateway.url("/cors/items/1"))
        .header("origin", ALLOWED)
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.headers()["access-control-allow-origin"], ALLOWED);
    assert_eq!(allowed.headers()["access-control-expose-headers"], "x-upstream");
    // ...and on a refusal, so the page can read the problem.
    let refused = client()
        .get(gateway.url("/cors/items/1"))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.headers()["access-control-allow-origin"], ALLOWED);
    problem(refused, StatusCode::UNAUTHORIZED, "credentials_missing").await;
    // Another origin's actual request goes on, but without CORS headers the browser hides it.
    let other = client()
        .get(gateway.url("/cors/items/1"))
        .header("origin", "http://evil.example.test")
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    // `*` without credentials answers `*`; an OPTIONS without a preflight's header is an ordinary request.
    let open = client()
        .get(gateway.url("/open-cors/x"))
        .header("origin", "http://anyone.example.test")
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(open.headers()["access-control-allow-origin"], "*");
    assert!(!open.headers().contains_key("vary"));
    let plain_options = client()
        .request(reqwest::Method::OPTIONS, gateway.url("/cors/x"))
        .header("origin", "http://evil.example.test")
        .send()
        .await
        .unwrap();
    problem(plain_options, StatusCode::UNAUTHORIZED, "credentials_missing").await;
    let metrics = gateway.metrics().await;
    let count = "http_server_request_duration_seconds_count";
    let labels = [
        ("gatehouse_refusal", "cors_origin_denied"),
        ("http_response_status_code", "403"),
    ];
    assert_eq!(metric_sum(&metrics, count, &labels), 1.0, "{metrics}");
}

async fn get(gateway: &TestGateway, path: &str, forwarded: Option<&str>) -> reqwest::Response {
    let mut request = client().get(gateway.url(path)).header("x-api-key", ALICE_KEY);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn ip_lists_refuse_by_the_client_address_and_forged_forwarding_does_not_help() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(edge_snapshot(&upstream.url())).await;
    // The test connects from 127.0.0.1: outside `allow`, inside `deny`.
    let body = problem(
        get(&gateway, "/allow/x", None).await,
        StatusCode::FORBIDDEN,
        "ip_denied",
    )
    .await;
    assert_eq!(
        body["detail"],
        "the client address 127.0.0.1 is refused by the ip_allow list of API `allow`"
    );
    let body = problem(get(&gateway, "/deny/x", None).await, StatusCode::FORBIDDEN, "ip_denied").await;
    assert!(
        body["detail"].as_str().unwrap().contains("ip_deny list of API `deny`"),
        "{body}"
    );
    // A client that is not a trusted proxy cannot claim another address.
    problem(
        get(&gateway, "/allow/x", Some("10.1.2.3")).await,
        StatusCode::FORBIDDEN,
        "ip_denied",
    )
    .await;
    problem(
        get(&gateway, "/untrusting/x", Some("203.0.113.7")).await,
        StatusCode::FORBIDDEN,
        "ip_denied",
    )
    .await;
    assert_eq!(upstream.hits(), 0);

    // Behind a trusted proxy (127.0.0.1 here), the right-most untrusted hop is the client.
    assert_eq!(
        get(&gateway, "/proxied/x", Some("203.0.113.7")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&gateway, "/proxied/x", Some("2001:db8::5, 192.0.2.10"))
            .await
            .status(),
        StatusCode::OK,
        "IPv6 clients, behind two trusted proxies"
    );
    // A client forging an allowed address on the left is still itself on the right.
    let forged = get(&gateway, "/proxied/x", Some("203.0.113.7, 198.51.100.1")).await;
    let body = problem(forged, StatusCode::FORBIDDEN, "ip_denied").await;
    assert!(body["detail"].as_str().unwrap().contains("198.51.100.1"), "{body}");
    // A hop that cannot be read is refused rather than skipped.
    problem(
        get(&gateway, "/proxied/x", Some("203.0.113.7, not-an-address")).await,
        StatusCode::FORBIDDEN,
        "ip_denied",
    )
    .await;
    assert_eq!(upstream.hits(), 2);
    let metrics = gateway.metrics().await;
    let labels = [("gatehouse_refusal", "ip_denied"), ("gatehouse_api", "proxied")];
    assert_eq!(
        metric_sum(&metrics, "http_server_request_duration_seconds_count", &labels),
        2.0,
        "{metrics}"
    );
}

/// Sends a request by hand, so the body can be chunked and the answer read as it comes.
async fn raw(gateway: &TestGateway, head: &str, chunks: &[Vec<u8>]) -> String {
    let mut stream = tokio::net::TcpStream::connect(gateway.address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in chunks {
        // The gateway may answer and close before the whole body is sent.
        if stream.write_all(chunk).await.is_err() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn chunk(size: usize) -> Vec<u8> {
    let mut chunk = format!("{size:x}\r\n").into_bytes();
    chunk.extend(std::iter::repeat_n(b'a', size));
    chunk.extend(b"\r\n");
    chunk
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_declared_or_streamed() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(edge_snapshot(&upstream.url())).await;
    // Declared: refused before anything is read or sent upstream.
    let declared = client()
        .post(gateway.url("/small/x"))
        .header("x-api-key", ALICE_KEY)
        .body(vec![b'a'; 101])
        .send()
        .await
        .unwrap();
    let body = problem(declared, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    assert!(body["detail"].as_str().unwrap().contains("at most 100 bytes"), "{body}");
    assert_eq!(upstream.hits(), 0);
    let fits = client()
        .post(gateway.url("/small/x"))
        .header("x-api-key", ALICE_KEY)
        .body(vec![b'a'; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), StatusCode::OK);
    assert_eq!(fits.json::<Value>().await.unwrap()["body_len"], 100);

    // Chunked: counted as it streams, cut off once it passes the limit.
    let head = format!(
        "POST /small/x HTTP/1.1\r\nhost: gw\r\nx-api-key: {ALICE_KEY}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    let mut chunks: Vec<Vec<u8>> = (0..20).map(|_| chunk(30)).collect();
    chunks.push(b"0\r\n\r\n".to_vec());
    let answer = raw(&gateway, &head, &chunks).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""rule":"body_too_large""#), "{answer}");
    let small = raw(&gateway, &head, &[chunk(40), chunk(40), b"0\r\n\r\n".to_vec()]).await;
    assert!(small.starts_with("HTTP/1.1 200"), "{small}");
    assert!(small.contains(r#""body_len":80"#), "{small}");
}

#[tokio::test]
async fn headers_are_transformed_both_ways_and_paths_rewritten() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(edge_snapshot(&upstream.url())).await;
    let response = client()
        .get(gateway.url("/transform/pets/1?q=2"))
        .header("x-api-key", ALICE_KEY)
        .header("x-secret", "s3cret")
        .header("x-old", "kept")
        .header("x-tenant", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-served-by"], "gatehouse");
    assert!(!response.headers().contains_key("x-upstream"));
    let seen: Value = response.json().await.unwrap();
    assert_eq!(seen["uri"], "/v2/pets/1?q=2");
    let headers = &seen["headers"];
    assert!(headers.get("x-secret").is_none(), "{headers}");
    assert!(headers.get("x-old").is_none(), "{headers}");
    assert_eq!(headers["x-new"], "kept");
    assert_eq!(headers["x-tenant"], "acme");
    // The gateway's own headers are still its own.
    assert_eq!(headers["x-gatehouse-user"], "alice");

    for (path, expected) in [
        ("/moved/old/a", "/new/a"),
        ("/moved/old", "/new"),
        ("/moved/older", "/older"),
        ("/moved/x", "/x"),
    ] {
        let seen: Value = get(&gateway, path, None).await.json().await.unwrap();
        assert_eq!(seen["uri"], expected, "{path}");
    }
}

#[tokio::test]
async fn a_snapshot_with_bad_edge_rules_is_refused_naming_each_field() {
    let mut snapshot = edge_snapshot("http://127.0.0.1:9");
    snapshot["apis"][2]["edge"] = json!({
        "cors": { "allow_origins": ["*", "https://App.example.com/path"], "allow_credentials": true },
        "ip_allow": ["10.0.0.1/8", "300.0.0.0/8"],
        "max_body_bytes": 2_000_000_000_000u64,
        "request_headers": { "remove": ["x-gatehouse-user"], "add": [{ "name": "connection", "value": "x" }] },
        "response_headers": { "rename": [{ "from": "ratelimit", "to": "x-limit" }] },
        "path_rewrite": { "kind": "template", "template": "v2/{rest}/{other}" }
    });
    let runtime = gateway::runtime::Runtime::new(Default::default(), Default::default());
    let error = runtime.apply(parse(&snapshot)).unwrap_err().to_string();
    for field in [
        "apis[2].edge.cors.allow_origins[1]",
        "apis[2].edge.cors.allow_credentials",
        "apis[2].edge.ip_allow[0]",
        "apis[2].edge.ip_allow[1]",
        "apis[2].edge.max_body_bytes",
        "apis[2].edge.request_headers.remove[0]",
        "apis[2].edge.request_headers.add[0].name",
        "apis[2].edge.response_headers.rename[0].from",
        "apis[2].edge.path_rewrite.template",
    ] {
        assert!(error.contains(field), "{field} in {error}");
    }
}
