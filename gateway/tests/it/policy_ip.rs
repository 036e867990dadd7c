//! Access policies' IP allow and deny lists, through a real gateway to a real upstream: requests
//! from 127.0.0.1 itself and, behind a trusted proxy, from the address its `X-Forwarded-For`
//! names; each refusal's problem+json, and a shadowed policy's would-be refusal.

use http::StatusCode;
use serde_json::{Value, json};

use crate::support::{ALICE_KEY, TestGateway, client, metric_sum, snapshot};
use crate::upstream::Upstream;

/// The shared test snapshot plus three APIs granted to alice (group staff) by IP-restricted
/// policies: `office` from 10.0.0.0/8 only, `local` from loopback only, and `partners` behind a
/// trusted proxy (127.0.0.1), from 10.0.0.0/8 or 2001:db8::/32 but not 10.9.0.0/16.
fn restricted_snapshot(upstream: &str) -> Value {
    let mut snapshot = snapshot(upstream, 100);
    for (name, edge) in [
        ("office", Value::Null),
        ("local", Value::Null),
        ("partners", json!({ "trusted_proxies": ["127.0.0.1"] })),
    ] {
        let mut api = json!({
            "name": name,
            "path_prefix": format!("/{name}"),
            "strip_prefix": true,
            "upstream": { "targets": [{ "url": upstream }] },
        });
        if !edge.is_null() {
            api["edge"] = edge;
        }
        snapshot["apis"].as_array_mut().unwrap().push(api);
    }
    let rules = snapshot["access_rules"].as_array_mut().unwrap();
    rules.push(json!({
        "policy": "office-only", "groups": ["staff"], "api": "office", "plan": "unlimited",
        "ip_allow": ["10.0.0.0/8"]
    }));
    rules.push(json!({
        "policy": "loopback", "groups": ["staff"], "api": "local", "plan": "unlimited",
        "ip_allow": ["127.0.0.0/8", "::1"]
    }));
    rules.push(json!({
        "policy": "partners", "groups": ["staff"], "api": "partners", "plan": "unlimited",
        "ip_allow": ["10.0.0.0/8", "2001:db8::/32"], "ip_deny": ["10.9.0.0/16"]
    }));
    snapshot
}

async fn get(gateway: &TestGateway, path: &str, forwarded: Option<&str>) -> reqwest::Response {
    let mut request = client().get(gateway.url(path)).header("x-api-key", ALICE_KEY);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().await.unwrap()
}

/// Asserts a 403 `policy_ip_denied` and returns its detail.
async fn refused(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["rule"], "policy_ip_denied", "{problem}");
    assert_eq!(problem["type"], "urn:gatehouse:gateway:policy_ip_denied");
    assert_eq!(problem["status"], 403);
    problem["detail"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_policy_grants_only_to_the_addresses_its_lists_take() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(restricted_snapshot(&upstream.url())).await;
    // The test connects from 127.0.0.1: inside `loopback`'s list, outside `office-only`'s.
    assert_eq!(get(&gateway, "/local/x", None).await.status(), StatusCode::OK);
    assert_eq!(
        refused(get(&gateway, "/office/x", None).await).await,
        "policy `office-only` allows API `office` only from 10.0.0.0/8 (its ip_allow list); 127.0.0.1 is outside it"
    );
    // Without trusted proxies a client cannot claim another address.
    refused(get(&gateway, "/office/x", Some("10.1.2.3")).await).await;
    // Other APIs, granted by policies without lists, are untouched.
    assert_eq!(get(&gateway, "/pets/v1/cats", None).await.status(), StatusCode::OK);
    assert_eq!(upstream.hits(), 2);

    let metrics = gateway.metrics().await;
    let labels = [("gatehouse_refusal", "policy_ip_denied"), ("gatehouse_api", "office")];
    assert_eq!(
        metric_sum(&metrics, "http_server_request_duration_seconds_count", &labels),
        2.0,
        "{metrics}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_address_decides() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(restricted_snapshot(&upstream.url())).await;
    assert_eq!(
        get(&gateway, "/partners/x", Some("10.1.2.3")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&gateway, "/partners/x", Some("2001:db8::5")).await.status(),
        StatusCode::OK,
        "an IPv6 client"
    );
    // A client forging an allowed address on the left is still itself on the right.
    assert_eq!(
        refused(get(&gateway, "/partners/x", Some("10.1.2.3, 203.0.113.9")).await).await,
        "policy `partners` allows API `partners` only from 10.0.0.0/8, 2001:db8::/32 (its ip_allow list); \
         203.0.113.9 is outside it"
    );
    assert_eq!(
        refused(get(&gateway, "/partners/x", Some("10.9.1.1")).await).await,
        "policy `partners` allows API `partners` except from 10.9.0.0/16 (its ip_deny list); 10.9.1.1 is in 10.9.0.0/16"
    );
    assert_eq!(
        refused(get(&gateway, "/partners/x", Some("not-an-address")).await).await,
        "policy `partners` allows API `partners` only from 10.0.0.0/8, 2001:db8::/32 (its ip_allow list); \
         the client address is unknown (an X-Forwarded-For hop could not be read)"
    );
    // Straight from the proxy, with nothing forwarded, the proxy is the client.
    refused(get(&gateway, "/partners/x", None).await).await;
    assert_eq!(upstream.hits(), 2);
}

#[tokio::test]
async fn a_shadowed_policy_records_what_its_lists_would_refuse() {
    let upstream = Upstream::start("one").await;
    let mut snapshot = restricted_snapshot(&upstream.url());
    // Shadowed: pets only from 10.0.0.0/8, in place of `staff-all`.
    snapshot["access_rules"].as_array_mut().unwrap().push(json!({
        "policy": "pets-office", "groups": ["staff"], "api": "pets", "plan": "unlimited",
        "ip_allow": ["10.0.0.0/8"], "shadow": true, "replaces": ["staff-all"]
    }));
    let gateway = TestGateway::start(snapshot).await;
    let response = get(&gateway, "/pets/v1/cats", None).await;
    assert_eq!(response.status(), StatusCode::OK, "a shadowed policy refuses nothing");
    assert_eq!(
        response.headers()["gatehouse-shadow-refusal"],
        "policy=pets-office; rule=policy_ip_denied"
    );
    // The IP lists of a shadowed policy never narrow what is enforced.
    assert_eq!(get(&gateway, "/local/x", None).await.status(), StatusCode::OK);
}
