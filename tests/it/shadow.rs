//! Shadow mode as deployed: `gatehouse gateway --access-log` enforcing a snapshot file whose plan
//! is shadowed lets every call through and tells each would-be refusal in the response header,
//! the access log and `gatehouse_shadow_refusals_total`.

use serde_json::json;

use crate::support::{Hub, TempDir, gatehouse};

const KEY: &str = "ghk_shadow_plan_test";

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[tokio::test]
async fn a_shadowed_plan_of_5_a_minute_lets_20_calls_through_and_records_15() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, axum::Router::new().fallback(|| async { "ok" }))
            .await
            .unwrap()
    });
    let snapshot = json!({
        "format": 1,
        "apis": [{ "name": "pets", "path_prefix": "/pets", "upstream": { "targets": [{ "url": upstream }] } }],
        "plans": [{ "name": "standard", "rate_limit": { "requests": 5, "window_seconds": 60 }, "shadow": true }],
        "consumers": [{ "key_hash": sha256_hex(KEY), "key_id": "k", "user": "alice", "application": "alice/app", "groups": ["partners"] }],
        "access_rules": [{ "policy": "partners-pets", "groups": ["partners"], "api": "pets", "plan": "standard" }]
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
    let admin_line = gateway.wait_for_stdout_line(|line| line.starts_with("gateway admin"));
    let admin = admin_line.split_whitespace().nth(2).unwrap().to_owned();

    let client = reqwest::Client::new();
    // Each call's request id and what its response said a shadowed rule would have refused.
    let mut calls = Vec::new();
    for _ in 0..20 {
        let response = client
            .get(format!("{}/pets/list", gateway.origin))
            .header("x-api-key", KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers().get("ratelimit").is_none(),
            "a shadowed plan shows no limit"
        );
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().unwrap().to_owned())
        };
        calls.push((header("x-request-id").unwrap(), header("gatehouse-shadow-refusal")));
    }
    let flagged: Vec<&str> = calls.iter().filter_map(|(_, shadow)| shadow.as_deref()).collect();
    assert_eq!(flagged, vec!["plan=standard; rule=rate_limited"; 15]);
    assert!(
        calls[..5].iter().all(|(_, shadow)| shadow.is_none()),
        "the first 5 are within the plan"
    );

    // The access log says the same of each request.
    for (request_id, shadow) in &calls {
        let line = gateway.wait_for_stdout_line(|line| line.starts_with('{') && line.contains(request_id.as_str()));
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(entry["status"], 200, "{entry}");
        assert_eq!(entry["shadow_refusal"].as_str(), shadow.as_deref(), "{entry}");
    }

    let metrics = client
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = r#"gatehouse_shadow_refusals_total{gatehouse_rule_kind="plan",gatehouse_rule="standard",gatehouse_consumer="alice"} 15"#;
    assert!(metrics.lines().any(|line| line == series), "{metrics}");
}
