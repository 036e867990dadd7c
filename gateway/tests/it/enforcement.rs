//! Enforcement: every refusal, with its status, its rule, its explanation and its headers.

use http::StatusCode;
use serde_json::Value;

use crate::support::{ALICE_KEY, BOB_KEY, EXPIRED_KEY, TestGateway, client, metric_sum, snapshot};
use crate::upstream::Upstream;

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    problem: Value,
}

async fn call(gateway: &TestGateway, method: &str, path: &str, key: Option<&str>) -> Answer {
    let mut request = client().request(method.parse().unwrap(), gateway.url(path));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    Answer {
        status,
        headers,
        problem: response.json().await.unwrap_or(Value::Null),
    }
}

fn assert_refused(answer: &Answer, status: StatusCode, rule: &str) {
    assert_eq!(answer.status, status, "{}", answer.problem);
    assert_eq!(answer.headers["content-type"], "application/problem+json");
    assert_eq!(answer.problem["rule"], rule, "{}", answer.problem);
    assert_eq!(answer.problem["status"], status.as_u16());
    assert!(
        answer.problem["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty())
    );
}

#[tokio::test]
async fn missing_and_bad_credentials_get_401_with_a_challenge() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    for (key, rule) in [
        (None, "credentials_missing"),
        (Some("ghk_wrong"), "api_key_unknown"),
        (Some(EXPIRED_KEY), "api_key_expired"),
    ] {
        let answer = call(&gateway, "GET", "/pets/v1/x", key).await;
        assert_refused(&answer, StatusCode::UNAUTHORIZED, rule);
        let challenge = answer.headers["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains(r#"header="x-api-key""#) && challenge.contains("Bearer"),
            "{challenge}"
        );
    }
    let hr = call(&gateway, "GET", "/hr/x", None).await;
    assert!(
        !hr.headers["www-authenticate"].to_str().unwrap().contains("Bearer"),
        "hr takes no JWTs"
    );
    assert_eq!(upstream.hits(), 0, "nothing refused reached the upstream");
}

#[tokio::test]
async fn access_refusals_name_the_group_and_what_it_may_not_do() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    assert_eq!(
        call(&gateway, "GET", "/pets/v1/x", Some(BOB_KEY)).await.status,
        StatusCode::OK
    );
    let delete = call(&gateway, "DELETE", "/pets/v1/x", Some(BOB_KEY)).await;
    assert_refused(&delete, StatusCode::FORBIDDEN, "access_denied");
    assert_eq!(delete.problem["detail"], "group `support` may not DELETE on pets v1");
    let v2 = call(&gateway, "GET", "/pets/v1x", Some(BOB_KEY)).await;
    assert_eq!(v2.status, StatusCode::NOT_FOUND, "no version selected and no default");
    let mut request = client()
        .get(gateway.url("/pets/x"))
        .header("x-api-key", BOB_KEY)
        .header("api-version", "2");
    request = request.header("accept", "application/json");
    let v2: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(v2["detail"], "group `support` may not use pets v2");
    let hr = call(&gateway, "GET", "/hr/x", None).await;
    assert_refused(&hr, StatusCode::UNAUTHORIZED, "credentials_missing");
    let hr = client()
        .get(gateway.url("/hr/x"))
        .header("x-hr-key", BOB_KEY)
        .send()
        .await
        .unwrap();
    let problem: Value = hr.json().await.unwrap();
    assert_eq!(problem["detail"], "no access policy grants API `hr` to group `support`");
}

#[tokio::test]
async fn routes_and_versions_that_do_not_exist_are_refused() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    assert_refused(
        &call(&gateway, "GET", "/nowhere", Some(ALICE_KEY)).await,
        StatusCode::NOT_FOUND,
        "route_not_found",
    );
    let version = call(&gateway, "GET", "/pets/v7/x", Some(ALICE_KEY)).await;
    assert_refused(&version, StatusCode::NOT_FOUND, "version_not_found");
    assert!(
        version.problem["detail"].as_str().unwrap().contains("/pets/v1"),
        "{}",
        version.problem
    );
    assert_refused(
        &call(&gateway, "GET", "/pets/v0/x", Some(ALICE_KEY)).await,
        StatusCode::GONE,
        "version_retired",
    );
    // Sent raw: URL libraries resolve dot segments before sending, which is the point.
    for path in ["/pets/v1/%2e%2e/admin", "/pets/v1/../admin", "/pets/./v1/x"] {
        let answer = raw_get(gateway.address, path).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("path_malformed"), "{answer}");
    }
    assert_eq!(upstream.hits(), 0);
}

#[tokio::test]
async fn the_plan_limits_each_consumer_and_says_so_in_headers() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 3)).await;
    for remaining in (0..3).rev() {
        let answer = call(&gateway, "GET", "/pets/v1/x", Some(BOB_KEY)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.headers["ratelimit-policy"], r#""support";q=3;w=60"#);
        let state = answer.headers["ratelimit"].to_str().unwrap();
        assert!(state.starts_with(&format!(r#""support";r={remaining};t="#)), "{state}");
    }
    let refused = call(&gateway, "GET", "/pets/v1/x", Some(BOB_KEY)).await;
    assert_refused(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(refused.headers.contains_key("ratelimit"));
    assert!(refused.problem["detail"].as_str().unwrap().contains("support"));
    assert_eq!(
        call(&gateway, "GET", "/pets/v1/x", Some(ALICE_KEY)).await.status,
        StatusCode::OK,
        "alice has her own plan"
    );
    assert_eq!(upstream.hits(), 4);
    let metrics = gateway.metrics().await;
    let count = "http_server_request_duration_seconds_count";
    let limited = [
        ("gatehouse_api", "pets"),
        ("gatehouse_refusal", "rate_limited"),
        ("http_response_status_code", "429"),
        ("gatehouse_consumer", "bob"),
    ];
    assert_eq!(metric_sum(&metrics, count, &limited), 1.0, "{metrics}");
    let passed = [
        ("http_request_method", "GET"),
        ("http_response_status_code", "200"),
        ("gatehouse_consumer", "bob"),
        ("gatehouse_refusal", ""),
    ];
    assert_eq!(metric_sum(&metrics, count, &passed), 3.0, "{metrics}");
    // A limit's refusal names the plan it enforced, so a dashboard sets 429s against the plan.
    let plan = metrics
        .lines()
        .find(|line| line.starts_with(count) && line.contains(r#"gatehouse_refusal="rate_limited""#))
        .expect("the refused request's series");
    assert!(!plan.contains(r#"gatehouse_plan="""#), "{plan}");
}

async fn raw_get(address: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nx-api-key: {ALICE_KEY}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn rules_that_name_operations_allow_only_those() {
    let upstream = Upstream::start("one").await;
    let mut document = snapshot(&upstream.url(), 100);
    document["apis"][0]["versions"][0]["operations"] = serde_json::json!([
        { "id": "listPets", "method": "GET", "path": "/pets" },
        { "id": "getPet", "method": "GET", "path": "/pets/{id}" },
        { "id": "deletePet", "method": "DELETE", "path": "/pets/{id}" }
    ]);
    document["access_rules"][2]["operations"] = serde_json::json!(["listPets", "getPet"]);
    document["access_rules"][2]["methods"] = serde_json::json!([]);
    let gateway = TestGateway::start(document).await;
    assert_eq!(
        call(&gateway, "GET", "/pets/v1/pets", Some(BOB_KEY)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(&gateway, "GET", "/pets/v1/pets/7", Some(BOB_KEY)).await.status,
        StatusCode::OK
    );
    let delete = call(&gateway, "DELETE", "/pets/v1/pets/7", Some(BOB_KEY)).await;
    assert_refused(&delete, StatusCode::FORBIDDEN, "access_denied");
    assert_eq!(
        delete.problem["detail"],
        "group `support` may not call operation `deletePet` on pets v1"
    );
    let unknown = call(&gateway, "GET", "/pets/v1/toys", Some(BOB_KEY)).await;
    assert_refused(&unknown, StatusCode::FORBIDDEN, "access_denied");
}

#[tokio::test]
async fn the_admin_port_tells_a_consumers_usage_of_a_plan_without_counting() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 5)).await;
    for _ in 0..2 {
        assert_eq!(
            call(&gateway, "GET", "/pets/v1/x", Some(BOB_KEY)).await.status,
            StatusCode::OK
        );
    }
    let usage = |query: &'static str| {
        let url = gateway.admin_url(&format!("/usage?{query}"));
        async move {
            let response = client().get(url).send().await.unwrap();
            (response.status(), response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, bob) = usage("plan=support&user=bob").await;
    assert_eq!(status, 200, "{bob}");
    assert_eq!(bob["rate_limit"]["limit"], 5);
    assert_eq!(bob["rate_limit"]["remaining"], 3);
    assert_eq!(bob["quota"], serde_json::Value::Null);
    assert_eq!(bob["limit_by"], "consumer");
    assert_eq!(usage("plan=support&user=bob").await.1, bob, "reading counts nothing");
    assert_eq!(usage("plan=support&user=alice").await.1["rate_limit"]["remaining"], 5);
    assert_eq!(usage("plan=nope&user=bob").await.0, 404);
    let (status, missing) = usage("user=bob").await;
    assert_eq!(status, 400);
    assert!(missing["status"].as_str().unwrap().contains("plan"));
    assert_eq!(upstream.hits(), 2);

    // When each key was last used: bob's just now, alice's never.
    let url = gateway.admin_url("/keys/last-used?id=key_bob&id=key_alice");
    let used: serde_json::Value = client().get(url).send().await.unwrap().json().await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let bob = used["last_used"]["key_bob"].as_u64().expect("bob's key was used");
    assert!(now - bob <= 2, "{bob} vs {now}");
    assert!(used["last_used"].get("key_alice").is_none(), "{used}");
    // A new revision keeps what was seen.
    let mut next = snapshot(&upstream.url(), 5);
    next["revision"] = 2.into();
    gateway.runtime.apply(crate::support::parse(&next)).unwrap();
    let url = gateway.admin_url("/keys/last-used?id=key_bob");
    let after: serde_json::Value = client().get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        after["last_used"]["key_bob"].as_u64(),
        Some(bob),
        "carried over the swap"
    );
}
