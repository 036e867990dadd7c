//! Request validation end to end: an API version with `validate_requests` applied as manifests
//! through the hub, published to the gateway of `gatehouse up`, in front of a real upstream that
//! records what reaches it. Hand-written bad requests are refused with 400 and each violation's
//! JSON pointer; good ones reach the upstream unchanged. Then Schemathesis generates requests from
//! the same document: every one that breaks it is refused and none reaches the upstream; every
//! one that keeps it passes.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ADMIN_PASSWORD, Hub, TempDir, gatehouse, run_to_exit, up_on_free_ports};

const MANIFESTS: &str = r#"
kind: Group
name: staff
spec: { description: Our own developers }
---
kind: Plan
name: gold
spec:
  rate_limit: { requests: 1000000, window_seconds: 60 }
---
kind: Api
name: pets
spec:
  route: { path_prefix: /pets, strip_prefix: true }
  upstream: { targets: [ { url: "UPSTREAM" } ] }
  versions:
    - name: v1
      status: published
      selector: { kind: path, segment: v1 }
      openapi_file: pets-v1.openapi.yaml
      validate_requests: true
---
kind: AccessPolicy
name: staff-pets
spec:
  groups: [staff]
  plan: gold
  apis:
    - api: pets
"#;

const OPENAPI: &str = r##"
openapi: 3.0.3
info: { title: Pets, version: "1" }
servers: [ { url: /pets/v1 } ]
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100 } }
        - { name: species, in: query, schema: { type: string, enum: [cat, dog] } }
      responses: { "200": { description: The pets } }
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/NewPet" }
      responses: { "200": { description: Created } }
  /pets/{id}:
    get:
      operationId: showPet
      parameters:
        - { name: id, in: path, required: true, schema: { type: integer, minimum: 1 } }
        - { name: x-tag, in: header, required: true, schema: { type: string, pattern: "^[a-z]+$" } }
      responses: { "200": { description: The pet } }
components:
  schemas:
    NewPet:
      type: object
      required: [name, species]
      additionalProperties: false
      properties:
        name: { type: string, minLength: 1, maxLength: 40 }
        species: { type: string, enum: [cat, dog] }
        age: { type: integer, minimum: 0, nullable: true }
        tags: { type: array, items: { type: string }, maxItems: 5 }
"##;

/// What reached the upstream: method, path and query, body.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

async fn recording_upstream() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let record = record.clone();
        async move {
            let method = request.method().to_string();
            let uri = request.uri().to_string();
            let body = axum::body::to_bytes(request.into_body(), usize::MAX).await.unwrap();
            record
                .lock()
                .unwrap()
                .push((method, uri, String::from_utf8_lossy(&body).into_owned()));
            axum::Json(json!({}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn post(up: &Hub, token: &str, path: &str, body: Value) -> Value {
    let response = up
        .client
        .post(up.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert!(status.is_success(), "POST {path} {body}: {status} {answer}");
    answer
}

/// Applies the manifests and issues bob (group staff) a key.
async fn set_up(up: &Hub, upstream: &str) -> String {
    let token = up.issue_admin_token("admin", ADMIN_PASSWORD).await;
    let manifests = TempDir::new();
    std::fs::write(
        manifests.path().join("gatehouse.yaml"),
        MANIFESTS.replace("UPSTREAM", upstream),
    )
    .unwrap();
    std::fs::write(manifests.path().join("pets-v1.openapi.yaml"), OPENAPI).unwrap();
    let mut apply = gatehouse();
    apply
        .arg("apply")
        .arg(manifests.path())
        .arg("--publish")
        .env("GATEHOUSE_HUB_URL", up.url(""))
        .env("GATEHOUSE_TOKEN", &token);
    let applied = run_to_exit(&mut apply);
    assert!(applied.status.success(), "apply: {}{}", applied.stdout, applied.stderr);
    post(
        up,
        &token,
        "/api/v1/users",
        json!({ "name": "bob", "groups": ["staff"] }),
    )
    .await;
    let application = post(
        up,
        &token,
        "/api/v1/applications",
        json!({ "name": "bob-app", "owner": "bob" }),
    )
    .await;
    let id = application["id"].as_str().unwrap();
    let key = post(
        up,
        &token,
        &format!("/api/v1/applications/{id}/keys"),
        json!({ "name": "validation" }),
    )
    .await;
    key["secret"].as_str().unwrap().to_owned()
}

struct Call {
    status: u16,
    body: Value,
    allow: Option<String>,
}

async fn call(client: &reqwest::Client, request: reqwest::RequestBuilder) -> Call {
    let response = client.execute(request.build().unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let allow = response
        .headers()
        .get("allow")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap_or(Value::Null);
    Call { status, body, allow }
}

fn pointers(call: &Call) -> Vec<&str> {
    call.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors listed: {}", call.body))
        .iter()
        .map(|error| error["pointer"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validating_version_refuses_what_breaks_its_document_before_the_upstream() {
    let (upstream, seen) = recording_upstream().await;
    let data_dir = TempDir::new();
    let mut up = Hub::start(up_on_free_ports(data_dir.path()));
    let (gateway, _) = up.gateway_urls();
    let key = set_up(&up, &upstream).await;
    let base = format!("{gateway}/pets/v1");
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).header("x-api-key", &key);
    let post_json = |body: &str| {
        client
            .post(format!("{base}/pets"))
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(body.to_owned())
    };
    // Until the gateway enforces the published revision.
    for attempt in 0.. {
        if call(&client, get("/pets")).await.status == 200 {
            break;
        }
        assert!(attempt < 300, "the gateway never served the published API");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = seen.lock().unwrap().len();

    let refused = call(&client, get("/pets?limit=ten&species=fish")).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["rule"], "request_invalid");
    assert_eq!(pointers(&refused), ["#/query/limit", "#/query/species"]);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("operation `listPets` of API `pets` v1"),
        "{}",
        refused.body
    );
    let refused = call(&client, get("/pets/0")).await;
    assert_eq!(pointers(&refused), ["#/path/id", "#/header/x-tag"], "{}", refused.body);
    let refused = call(&client, get("/pets/abc").header("x-tag", "UPPER")).await;
    assert_eq!(pointers(&refused), ["#/path/id", "#/header/x-tag"], "{}", refused.body);
    let refused = call(
        &client,
        post_json(r#"{"species": "fish", "age": -1, "tags": [1], "colour": "red"}"#),
    )
    .await;
    assert_eq!(
        pointers(&refused),
        ["#/body", "#/body", "#/body/age", "#/body/species", "#/body/tags/0"],
        "{}",
        refused.body
    );
    let refused = call(&client, post_json(r#"{"name": "Rex""#)).await;
    assert_eq!(pointers(&refused), ["#/body"]);
    assert!(
        refused.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("not JSON")
    );
    let refused = call(
        &client,
        client
            .post(format!("{base}/pets"))
            .header("x-api-key", &key)
            .header("content-type", "text/plain")
            .body("Rex"),
    )
    .await;
    assert_eq!(pointers(&refused), ["#/header/content-type"]);
    let refused = call(&client, client.post(format!("{base}/pets")).header("x-api-key", &key)).await;
    assert_eq!(pointers(&refused), ["#/body"]);
    // Not an operation of the document: 404 for the path, 405 naming the path's methods.
    let unknown = call(&client, get("/owners")).await;
    assert_eq!(
        (unknown.status, unknown.body["rule"].as_str()),
        (404, Some("operation_unknown"))
    );
    let unknown = call(&client, client.delete(format!("{base}/pets")).header("x-api-key", &key)).await;
    assert_eq!((unknown.status, unknown.allow.as_deref()), (405, Some("GET, POST")));
    // A body over the limit a validating gateway buffers is refused, not checked. curl asks
    // `Expect: 100-continue` for a body this large, so the 413 comes before it is sent (a client
    // that sends it all at once can see the connection close under its feet instead).
    let huge = data_dir.path().join("huge.json");
    std::fs::write(
        &huge,
        format!(r#"{{"name": "{}", "species": "cat"}}"#, "x".repeat(2 * 1024 * 1024)),
    )
    .unwrap();
    let too_large = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .args([
            "-H",
            "content-type: application/json",
            "-H",
            &format!("x-api-key: {key}"),
        ])
        .arg("--data-binary")
        .arg(format!("@{}", huge.display()))
        .arg(format!("{base}/pets"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&too_large.stdout), "413", "{too_large:?}");
    assert_eq!(
        seen.lock().unwrap().len(),
        before,
        "no refused request reached the upstream"
    );

    // Valid requests pass unchanged, chunked bodies too.
    assert_eq!(call(&client, get("/pets?limit=10&species=cat")).await.status, 200);
    assert_eq!(call(&client, get("/pets/7").header("x-tag", "blue")).await.status, 200);
    let body = r#"{"name": "Rex", "species": "dog", "age": null, "tags": ["good"]}"#;
    assert_eq!(call(&client, post_json(body)).await.status, 200);
    // curl sends a body chunked when told to: the gateway reads it whole to check it.
    let chunked = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "transfer-encoding: chunked",
        ])
        .args([
            "-H",
            "content-type: application/json",
            "-H",
            &format!("x-api-key: {key}"),
        ])
        .args([
            "--data-binary",
            r#"{"name": "Tom", "species": "cat"}"#,
            &format!("{base}/pets"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&chunked.stdout), "200", "{chunked:?}");
    let passed: Vec<(String, String, String)> = seen.lock().unwrap()[before..].to_vec();
    assert_eq!(
        passed,
        [
            ("GET".into(), "/pets?limit=10&species=cat".into(), String::new()),
            ("GET".into(), "/pets/7".into(), String::new()),
            ("POST".into(), "/pets".into(), body.into()),
            (
                "POST".into(),
                "/pets".into(),
                r#"{"name": "Tom", "species": "cat"}"#.into()
            ),
        ]
    );

    // Schemathesis: requests that break the document, then requests that keep it.
    let document = data_dir.path().join("pets-v1.openapi.yaml");
    std::fs::write(&document, OPENAPI).unwrap();
    let before = seen.lock().unwrap().len();
    let negative = schemathesis(&document, &gateway, &key, "negative", "negative_data_rejection");
    assert!(
        negative.0,
        "Schemathesis found invalid requests the gateway let through:\n{}",
        negative.1
    );
    let reached: Vec<_> = seen.lock().unwrap()[before..].to_vec();
    assert!(
        reached.is_empty(),
        "{} invalid requests reached the upstream: {:?}",
        reached.len(),
        &reached[..reached.len().min(5)]
    );
    assert!(
        generated(&negative.1) >= 100,
        "too few invalid requests generated:\n{}",
        negative.1
    );
    let positive = schemathesis(
        &document,
        &gateway,
        &key,
        "positive",
        "positive_data_acceptance,not_a_server_error",
    );
    assert!(
        positive.0,
        "Schemathesis found valid requests the gateway refused:\n{}",
        positive.1
    );
    assert!(
        generated(&positive.1) >= 50,
        "too few valid requests generated:\n{}",
        positive.1
    );
    let reached = seen.lock().unwrap().len() - before;
    assert!(
        reached >= 30,
        "only {reached} valid generated requests reached the upstream"
    );
    up.stop();
}

/// Runs Schemathesis against the gateway in `mode` with `checks`; whether it passed, and its report.
fn schemathesis(document: &std::path::Path, gateway: &str, key: &str, mode: &str, checks: &str) -> (bool, String) {
    let output = Command::new(schemathesis_bin())
        .arg("run")
        .arg(document)
        .args(["--url", &format!("{gateway}/pets/v1")])
        .args(["-H", &format!("x-api-key: {key}")])
        .args(["--mode", mode, "--checks", checks])
        .args(["--max-examples", "40", "--seed", "1", "--generation-deterministic"])
        .args(["--phases", "examples,coverage,fuzzing", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "")
        // Whatever it keeps between runs stays in the test's directory.
        .current_dir(document.parent().unwrap())
        .output()
        .expect("schemathesis runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), report)
}

/// How many test cases a Schemathesis report says it generated (`212 generated, …`).
fn generated(report: &str) -> u64 {
    report
        .lines()
        .find_map(|line| line.trim().split_once(" generated")?.0.parse().ok())
        .unwrap_or(0)
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Schemathesis in a virtual environment under the target directory, made from the pinned
/// requirements; the same one `scripts/schemathesis` uses for the admin API (same version).
fn schemathesis_bin() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from);
    let venv = target.join("venv-schemathesis");
    let bin = venv.join("bin/schemathesis");
    let ready = || {
        Command::new(&bin)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if !ready() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(made.success(), "python3 -m venv {}", venv.display());
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(workspace().join("tests/schemathesis/requirements.txt"))
            .status()
            .unwrap();
        assert!(installed.success(), "installing tests/schemathesis/requirements.txt");
    }
    bin
}
