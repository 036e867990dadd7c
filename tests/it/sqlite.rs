//! The hub on its embedded SQLite store, as `gatehouse hub` and `gatehouse up` run it: health, admin
//! authentication, an API's round trip, the OpenAPI document and its reference page.

use serde_json::Value;

use crate::support::{ADMIN_PASSWORD, Hub, TempDir, gatehouse, hub_on_sqlite, up_on_free_ports, url_on};

#[tokio::test]
async fn health_and_readiness_answer_200() {
    let data_dir = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(data_dir.path()));
    for path in ["/healthz", "/readyz"] {
        let response = reqwest::get(hub.url(path)).await.expect(path);
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.expect("JSON body");
        assert!(body["status"].is_string(), "{path} says its status: {body}");
    }
}

#[tokio::test]
async fn basic_auth_issues_a_token_that_creates_and_reads_an_api() {
    let data_dir = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(data_dir.path()));
    let token = hub.issue_admin_token("admin", ADMIN_PASSWORD).await;

    let created = hub.create_api(&token, "petstore").await;
    assert_eq!(created["name"], "petstore");

    let (status, api) = hub.get_json(&token, "/api/v1/apis/petstore").await;
    assert_eq!(status, 200, "{api}");
    assert_eq!(api["name"], "petstore");
    assert_eq!(api["route"]["path_prefix"], "/petstore");
    assert_eq!(api["upstream"]["targets"][0]["url"], "http://127.0.0.1:9000");

    let (status, list) = hub.get_json(&token, "/api/v1/apis").await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("a list has items")
        .iter()
        .filter_map(|api| api["name"].as_str())
        .collect();
    assert_eq!(names, ["petstore"]);
}

#[tokio::test]
async fn requests_without_valid_credentials_get_401_with_www_authenticate() {
    let data_dir = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(data_dir.path()));
    let attempts = [
        ("no credentials", hub.client.get(hub.url("/api/v1/apis"))),
        (
            "wrong password",
            hub.client
                .get(hub.url("/api/v1/apis"))
                .basic_auth("admin", Some("not-the-password")),
        ),
        (
            "unknown token",
            hub.client
                .get(hub.url("/api/v1/apis"))
                .bearer_auth("ghat_unknown0000000000000000000000000000"),
        ),
    ];
    for (what, request) in attempts {
        let response = request.send().await.expect("GET /api/v1/apis");
        assert_eq!(response.status(), 401, "{what}");
        let challenge = response
            .headers()
            .get("www-authenticate")
            .unwrap_or_else(|| panic!("{what}: 401 carries WWW-Authenticate"))
            .to_str()
            .expect("ASCII header");
        assert!(challenge.contains("Bearer"), "{what}: {challenge}");
        let content_type = response.headers()["content-type"].to_str().expect("ASCII header");
        assert_eq!(content_type, "application/problem+json", "{what}");
        let problem: Value = response.json().await.expect("problem+json body");
        assert_eq!(problem["status"], 401, "{what}: {problem}");
    }
}

#[tokio::test]
async fn openapi_document_is_version_3_and_lists_the_apis_path() {
    let data_dir = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(data_dir.path()));
    let response = reqwest::get(hub.url("/api/v1/openapi.json"))
        .await
        .expect("GET openapi.json");
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.expect("JSON body");
    let version = document["openapi"].as_str().expect("an `openapi` version string");
    assert!(version.starts_with("3."), "OpenAPI 3.x, not {version}");
    assert!(
        document["paths"]["/api/v1/apis"].is_object(),
        "paths: {:?}",
        document["paths"]
            .as_object()
            .map(|paths| paths.keys().collect::<Vec<_>>())
    );
}

#[tokio::test]
async fn reference_page_loads_swagger_ui_served_by_the_binary() {
    let data_dir = TempDir::new();
    let mut hub = Hub::start(hub_on_sqlite(data_dir.path()));
    let reference_line = hub.wait_for_stdout_line(|line| line.starts_with("API reference"));
    assert!(
        reference_line.ends_with(&hub.url("/api/v1/reference")),
        "{reference_line}"
    );

    let response = reqwest::get(hub.url("/api/v1/reference")).await.expect("GET reference");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ASCII header");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("HTML body");
    assert!(
        page.contains("/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        "{page}"
    );

    // The assets come from the binary itself, so an air-gapped install has a working page.
    for (asset, expected_type) in [
        ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "javascript"),
        ("/static/vendor/swagger-ui/swagger-ui.css", "text/css"),
    ] {
        let response = reqwest::get(hub.url(asset)).await.expect(asset);
        assert_eq!(response.status(), 200, "{asset}");
        let content_type = response.headers()["content-type"].to_str().expect("ASCII header");
        assert!(content_type.contains(expected_type), "{asset}: {content_type}");
        let body = response.bytes().await.expect("asset body");
        assert!(body.len() > 1000, "{asset} is only {} bytes", body.len());
    }
}

#[tokio::test]
async fn up_serves_the_hub_and_the_gateway_and_prints_its_data_directory() {
    let data_dir = TempDir::new();
    let mut hub = Hub::start(up_on_free_ports(data_dir.path()));
    let gateway_admin = url_on(&hub.wait_for_stdout_line(|line| line.starts_with("gateway admin")));
    let health = reqwest::get(format!("{gateway_admin}/healthz"))
        .await
        .expect("GET the gateway's /healthz");
    assert_eq!(health.status(), 200, "the gateway runs in the same process");
    let line = hub.wait_for_stdout_line(|line| line.starts_with("data directory"));
    assert!(line.ends_with(&data_dir.path().display().to_string()), "{line}");
    let response = reqwest::get(hub.url("/readyz")).await.expect("GET /readyz");
    assert_eq!(response.status(), 200);
    assert!(
        data_dir.path().join("gatehouse.db").is_file(),
        "the SQLite file is in the data directory"
    );
}

#[tokio::test]
async fn up_demo_serves_apis_through_the_gateway_at_once() {
    let data_dir = TempDir::new();
    let mut command = gatehouse();
    command
        .args(["up", "--demo"])
        .arg("--data-dir")
        .arg(data_dir.path())
        .args([
            "--hub-listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
            "--gateway-admin-listen",
            "127.0.0.1:0",
        ])
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let mut up = Hub::start(command);
    let alice = up.wait_for_stdout_line(|line| line.contains("curl -H") && line.contains("/pets/v1/pets"));
    let bob_delete = up.wait_for_stdout_line(|line| line.contains("curl -X DELETE"));
    let key_of = |line: &str| {
        line.split('\'')
            .nth(1)
            .and_then(|header| header.strip_prefix("x-api-key: "))
            .unwrap()
            .to_owned()
    };
    let url_of = |line: &str| {
        line.split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap()
            .to_owned()
    };
    let client = reqwest::Client::new();
    // The gateway follows the hub in-process; give it the moment the first revision takes.
    let mut status = 0;
    for _ in 0..50 {
        status = client
            .get(url_of(&alice))
            .header("x-api-key", key_of(&alice))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "alice reads pets");
    let refused = client
        .delete(url_of(&bob_delete))
        .header("x-api-key", key_of(&bob_delete))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["detail"], "group `partners` may not DELETE on petstore v1");

    // The in-process gateway reports between publishes too (a heartbeat), with its counters: the
    // fleet shows it online with the requests just served and the refusal among them.
    let token = up.issue_admin_token("admin", ADMIN_PASSWORD).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (status, fleet) = up.get_json(&token, "/api/v1/fleet").await;
        assert_eq!(status, 200, "{fleet}");
        let local = &fleet[0];
        assert_eq!(
            (&local["name"], &local["liveness"]),
            (&serde_json::json!("local"), &serde_json::json!("online")),
            "{fleet}"
        );
        if local["requests"].as_i64().unwrap_or(0) >= 2 {
            assert!(local["refusals"].as_i64().unwrap() >= 1, "{fleet}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no heartbeat with the counters: {fleet}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
