//! An access policy's IP lists as deployed: `gatehouse gateway --access-log` enforcing a snapshot
//! file refuses a call from outside the policy's networks with 403 `policy_ip_denied`, and lets
//! the same key through when a trusted proxy forwards it from inside them.

use serde_json::json;

use crate::support::{Hub, TempDir, gatehouse};

const KEY: &str = "ghk_policy_ip_test";

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[tokio::test]
async fn a_policy_restricted_to_some_networks_refuses_other_addresses_by_name() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, axum::Router::new().fallback(|| async { "ok" }))
            .await
            .unwrap()
    });
    let snapshot = json!({
        "format": 1,
        "apis": [{
            "name": "pets", "path_prefix": "/pets", "upstream": { "targets": [{ "url": upstream }] },
            "edge": { "trusted_proxies": ["127.0.0.1"] }
        }],
        "plans": [{ "name": "standard" }],
        "consumers": [{ "key_hash": sha256_hex(KEY), "key_id": "k", "user": "pat", "application": "pat/app", "groups": ["partners"] }],
        "access_rules": [{
            "policy": "partners", "groups": ["partners"], "api": "pets", "plan": "standard",
            "ip_allow": ["10.0.0.0/8"], "ip_deny": ["10.9.0.0/16"]
        }]
    });
    let dir = TempDir::new();
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, snapshot.to_string()).unwrap();
    let mut command = gatehouse();
    command
        .arg("gateway")
        .arg("--snapshot")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--gateway-listen",
            "127.0.0.1:0",
            "--gateway-admin-listen",
            "127.0.0.1:0",
            "--access-log",
        ]);
    let mut gateway = Hub::start_role(command, "gateway ");
    let client = reqwest::Client::new();
    let url = format!("{}/pets/list", gateway.origin);
    let call = |forwarded: Option<&str>| {
        let mut request = client.get(&url).header("x-api-key", KEY);
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        request.send()
    };

    let refused = call(None).await.unwrap();
    assert_eq!(refused.status(), 403);
    let request_id = refused.headers()["x-request-id"].to_str().unwrap().to_owned();
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["rule"], "policy_ip_denied", "{problem}");
    assert_eq!(
        problem["detail"],
        "policy `partners` allows API `pets` only from 10.0.0.0/8 (its ip_allow list); 127.0.0.1 is outside it"
    );
    let line = gateway.wait_for_stdout_line(|line| line.starts_with('{') && line.contains(&request_id));
    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (entry["status"].as_u64(), entry["refusal"].as_str()),
        (Some(403), Some("policy_ip_denied")),
        "{entry}"
    );

    assert_eq!(call(Some("10.1.2.3")).await.unwrap().status(), 200);
    let denied = call(Some("10.9.0.1")).await.unwrap();
    assert_eq!(denied.status(), 403);
    let problem: serde_json::Value = denied.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .ends_with("10.9.0.1 is in 10.9.0.0/16"),
        "{problem}"
    );
}
