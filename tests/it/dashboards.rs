//! Every panel of every shipped Grafana dashboard (`deploy/grafana/dashboards/*.json`) shows data:
//! `gatehouse up` with APIs, groups, a rate-limited plan, users and keys; a real upstream on
//! loopback; traffic that gets 2xx, 401, 403, 404, 429 and 5xx; a real Prometheus scraping the
//! gateway's admin `/metrics`. Then, as Grafana would, each dashboard's variables are resolved with
//! `label_values` against that Prometheus (the default selection, and once more with each
//! multi-value variable narrowed to its first value), and each panel query is interpolated and run
//! (range queries over the traffic's time range, instant ones at its end): every one must answer
//! with at least one finite value. The JSON's shape is checked by `tests/grafana` (Grafana's schema);
//! this checks that its PromQL matches the metrics the gateway exports (deploy/METRICS.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::prometheus::Prometheus;
use crate::support::{ADMIN_PASSWORD, Hub, TempDir, gatehouse, run_to_exit, up_on_free_ports};

/// The scrape interval of the test's Prometheus (see `prometheus.rs`): Grafana's `$__interval`
/// never goes below the data source's scrape interval.
const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

/// How long the traffic runs: long enough for several scrapes, so `rate()` has points.
const TRAFFIC: Duration = Duration::from_secs(12);

/// The plan the `partners` group calls under: a handful of requests per minute, so its users get 429.
const BRONZE_REQUESTS: u64 = 5;

fn dashboards_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana/dashboards")
}

const MANIFESTS: &str = r#"
kind: Group
name: partners
spec: { description: Partner companies }
---
kind: Group
name: staff
spec: { description: Our own developers }
---
kind: Plan
name: bronze
spec:
  rate_limit: { requests: 5, window_seconds: 60 }
---
kind: Plan
name: gold
spec:
  rate_limit: { requests: 100000, window_seconds: 60 }
---
kind: Api
name: shop
spec:
  route: { path_prefix: /shop, strip_prefix: true }
  upstream: { targets: [ { url: "UPSTREAM" } ] }
  versions:
    - name: v1
      status: published
      selector: { kind: path, segment: v1 }
      openapi_file: shop-v1.openapi.yaml
---
kind: Api
name: weather
spec:
  route: { path_prefix: /weather }
  upstream: { targets: [ { url: "UPSTREAM" } ] }
---
kind: AccessPolicy
name: partners-read-shop
spec:
  groups: [partners]
  plan: bronze
  apis:
    - api: shop
      methods: [GET]
---
kind: AccessPolicy
name: staff-everything
spec:
  groups: [staff]
  plan: gold
  apis:
    - api: shop
    - api: weather
"#;

const SHOP_OPENAPI: &str = r#"
openapi: 3.0.3
info: { title: Shop, version: "1" }
paths:
  /orders:
    get: { operationId: browseOrders, responses: { "200": { description: The orders } } }
    post: { operationId: createOrder, responses: { "201": { description: Created } } }
  /orders/{id}:
    parameters: [ { name: id, in: path, required: true, schema: { type: string } } ]
    get: { operationId: getOrder, responses: { "200": { description: The order } } }
    delete: { operationId: deleteOrder, responses: { "204": { description: Removed } } }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_panel_has_data_from_a_real_gateway_and_prometheus() {
    let dashboards = read_dashboards();
    assert_eq!(
        dashboards.len(),
        4,
        "four dashboards ship under {}",
        dashboards_dir().display()
    );

    let (upstream_url, _upstream) = upstream().await;
    let data_dir = TempDir::new();
    let mut up = Hub::start(up_on_free_ports(data_dir.path()));
    let (gateway, gateway_admin) = up.gateway_urls();
    let token = up.issue_admin_token("admin", ADMIN_PASSWORD).await;
    let keys = set_up_hub(&up, &token, &upstream_url).await;

    // Prometheus first, so it sees the counters from zero, as it would a gateway that just started.
    let started = SystemTime::now();
    let prometheus = Prometheus::start(&[gateway_admin.as_str()]).await;
    prometheus
        .wait_for_targets_up(Duration::from_secs(30))
        .await
        .expect("Prometheus scrapes the gateway admin port");

    let sent = send_traffic(&gateway, &keys).await;
    // Wait until Prometheus has scraped every request the traffic sent.
    prometheus
        .wait_until(
            "sum(http_server_request_duration_seconds_count)",
            |samples| samples.first().is_some_and(|sample| sample.value >= sent as f64),
            Duration::from_secs(30),
        )
        .await
        .unwrap_or_else(|error| panic!("{error:#}\nPrometheus log:\n{}", prometheus.log()));
    // Two more scrapes, so the last requests are inside a rate() window of several samples.
    tokio::time::sleep(3 * SCRAPE_INTERVAL).await;
    let time_range = TimeRange {
        from: started,
        to: SystemTime::now(),
    };

    let mut problems = Vec::new();
    let mut n_queries = 0;
    for dashboard in &dashboards {
        for narrowed in [false, true] {
            let variables = match resolve_variables(&prometheus, dashboard, &time_range, narrowed).await {
                Ok(variables) => variables,
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            };
            for panel in panels(&dashboard.json) {
                for target in panel["targets"].as_array().into_iter().flatten() {
                    let Some(expr) = target["expr"].as_str() else { continue };
                    n_queries += 1;
                    let promql = interpolate(expr, &variables);
                    let instant = target["instant"] == true && target["range"] != true;
                    let legend = target["legendFormat"].as_str().unwrap_or("");
                    if let Err(why) = has_data(&prometheus, &promql, legend, instant, &time_range).await {
                        problems.push(format!(
                            "dashboard {:?} ({}), panel {:?}, variables {}:\n  {expr}\n  as run: {promql}\n  {why}",
                            dashboard.title(),
                            dashboard.file_name,
                            panel["title"].as_str().unwrap_or("(untitled)"),
                            describe(&variables),
                        ));
                    }
                }
            }
        }
    }
    assert!(n_queries > 40, "only {n_queries} panel queries were found");
    assert!(
        problems.is_empty(),
        "{} of {n_queries} dashboard queries gave no data:\n\n{}\n\nPrometheus log:\n{}",
        problems.len(),
        problems.join("\n\n"),
        prometheus.log()
    );
}

// === the hub and the traffic ===

/// The API keys of the two users: alice (group partners, plan bronze: GET on shop only, 5 a
/// minute) and bob (group staff, plan gold: everything on shop and weather).
struct Keys {
    alice: String,
    bob: String,
}

/// Applies the manifests (APIs with an OpenAPI document, groups, plans, access policies), then
/// creates the users, their applications and keys through the admin API; `up` publishes each change.
async fn set_up_hub(up: &Hub, token: &str, upstream: &str) -> Keys {
    let manifests = TempDir::new();
    std::fs::write(
        manifests.path().join("gatehouse.yaml"),
        MANIFESTS.replace("UPSTREAM", upstream),
    )
    .unwrap();
    std::fs::write(manifests.path().join("shop-v1.openapi.yaml"), SHOP_OPENAPI).unwrap();
    let mut apply = gatehouse();
    apply
        .arg("apply")
        .arg(manifests.path())
        .arg("--publish")
        .env("GATEHOUSE_HUB_URL", up.url(""))
        .env("GATEHOUSE_TOKEN", token);
    let applied = run_to_exit(&mut apply);
    assert!(
        applied.status.success(),
        "gatehouse apply: {}{}",
        applied.stdout,
        applied.stderr
    );

    let mut keys = Vec::new();
    for (user, group) in [("alice", "partners"), ("bob", "staff")] {
        post(up, token, "/api/v1/users", json!({ "name": user, "groups": [group] })).await;
        let application = post(
            up,
            token,
            "/api/v1/applications",
            json!({ "name": format!("{user}-app"), "owner": user }),
        )
        .await;
        let id = application["id"].as_str().expect("the application's id");
        let key = post(
            up,
            token,
            &format!("/api/v1/applications/{id}/keys"),
            json!({ "name": "dashboards" }),
        )
        .await;
        keys.push(key["secret"].as_str().expect("the key's secret").to_owned());
    }
    let [alice, bob] = <[String; 2]>::try_from(keys).unwrap();
    Keys { alice, bob }
}

async fn post(up: &Hub, token: &str, path: &str, body: Value) -> Value {
    let response = up
        .client
        .post(up.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|error| panic!("POST {path}: {error}"));
    let status = response.status();
    let answer: Value = response.json().await.expect("JSON body");
    assert!(status.is_success(), "POST {path} {body}: {status} {answer}");
    answer
}

/// A tiny upstream: 500 when the path or query asks for `fail`, 200 otherwise.
async fn upstream() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|uri: axum::http::Uri| async move {
        if uri.to_string().contains("fail") {
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "failed on purpose")
        } else {
            (axum::http::StatusCode::OK, "ok")
        }
    });
    (
        url,
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }),
    )
}

/// Sends rounds of requests for `TRAFFIC`, four rounds a second, and returns how many it sent.
/// Each round: alice lists orders (200 until her plan's 5 a minute run out, then 429), lists them
/// with `?fail=1` (the upstream answers 500) and tries a DELETE (403); bob lists, reads, creates and
/// deletes orders (200), lists with `?fail=1` (500) and reads the weather; a caller without a key
/// (401), one with an unknown key (401), and a path no API serves (404). The first value of each
/// variable (API shop, operation browseOrders, consumer alice) is what a narrowed selection picks,
/// so those get every kind of answer. First, until the gateway enforces the published revision,
/// bob's reads.
async fn send_traffic(gateway: &str, keys: &Keys) -> u64 {
    let client = reqwest::Client::new();
    wait_for_revision(&client, gateway, &keys.bob).await;
    let shop = format!("{gateway}/shop/v1");
    let round: Vec<(reqwest::Method, String, Option<&str>)> = vec![
        (reqwest::Method::GET, format!("{shop}/orders"), Some(&keys.alice)),
        (reqwest::Method::GET, format!("{shop}/orders?fail=1"), Some(&keys.alice)),
        (reqwest::Method::DELETE, format!("{shop}/orders/7"), Some(&keys.alice)),
        (reqwest::Method::GET, format!("{shop}/orders"), Some(&keys.bob)),
        (reqwest::Method::GET, format!("{shop}/orders/7"), Some(&keys.bob)),
        (reqwest::Method::POST, format!("{shop}/orders"), Some(&keys.bob)),
        (reqwest::Method::DELETE, format!("{shop}/orders/7"), Some(&keys.bob)),
        (reqwest::Method::GET, format!("{shop}/orders?fail=1"), Some(&keys.bob)),
        (
            reqwest::Method::GET,
            format!("{gateway}/weather/today"),
            Some(&keys.bob),
        ),
        (reqwest::Method::GET, format!("{shop}/orders"), None),
        (
            reqwest::Method::GET,
            format!("{shop}/orders"),
            Some("ghk_not_a_key_anyone_issued"),
        ),
        (reqwest::Method::GET, format!("{gateway}/no-api-here"), None),
    ];
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let started = std::time::Instant::now();
    while started.elapsed() < TRAFFIC {
        for (method, url, key) in &round {
            let mut request = client.request(method.clone(), url);
            if let Some(key) = key {
                request = request.header("x-api-key", *key);
            }
            let response = request
                .send()
                .await
                .unwrap_or_else(|error| panic!("{method} {url}: {error}"));
            *statuses.entry(response.status().as_u16()).or_default() += 1;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for status in [200, 401, 403, 404, 429, 500] {
        assert!(
            statuses.contains_key(&status),
            "the traffic got no {status}: {statuses:?}"
        );
    }
    assert!(
        statuses[&429] > BRONZE_REQUESTS,
        "alice's plan refused her reads: {statuses:?}"
    );
    statuses.values().sum::<u64>() + 1
}

/// Polls until bob's read is served (the gateway in `up` follows the hub within a second).
async fn wait_for_revision(client: &reqwest::Client, gateway: &str, bob: &str) {
    let url = format!("{gateway}/shop/v1/orders");
    // Generous: a debug build beside other test binaries on two cores.
    for _ in 0..300 {
        let response = client.get(&url).header("x-api-key", bob).send().await;
        if response.is_ok_and(|response| response.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the gateway never served GET {url} with bob's key");
}

// === the dashboards, as Grafana reads them ===

struct Dashboard {
    file_name: String,
    json: Value,
}

impl Dashboard {
    fn title(&self) -> &str {
        self.json["title"].as_str().unwrap_or("(untitled)")
    }
}

fn read_dashboards() -> Vec<Dashboard> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dashboards_dir())
        .unwrap_or_else(|error| panic!("{}: {error}", dashboards_dir().display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| Dashboard {
            file_name: path.file_name().unwrap().to_string_lossy().into_owned(),
            json: serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|error| panic!("{}: {error}", path.display())),
        })
        .collect()
}

/// Every panel that holds queries, those inside rows included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: &'a Value, into: &mut Vec<&'a Value>) {
        for panel in panels.as_array().into_iter().flatten() {
            if panel["type"] == "row" {
                walk(&panel["panels"], into);
            } else {
                into.push(panel);
            }
        }
    }
    let mut found = Vec::new();
    walk(&dashboard["panels"], &mut found);
    found
}

/// The dashboard's time range: where range queries run, and what `$__range` spans.
struct TimeRange {
    from: SystemTime,
    to: SystemTime,
}

impl TimeRange {
    fn seconds(&self) -> u64 {
        self.to.duration_since(self.from).unwrap().as_secs().max(1)
    }
}

/// What a variable stands for in a query.
#[derive(Debug, Clone)]
enum Variable {
    /// A built-in (`$__rate_interval`) or the data source: its text, never escaped.
    Text(String),
    /// A query variable's selection.
    Selected {
        values: Vec<String>,
        /// `Some(allValue)` when "All" is selected.
        all: Option<String>,
        /// Multi-value or with "All": the Prometheus data source then formats it as a regex.
        regex: bool,
    },
}

/// The dashboard's variables, in order, as Grafana resolves them on load: built-ins, the data
/// source, then each query variable from `label_values` against Prometheus, with what was saved as
/// selected ("All") kept, or else the first value (the list is sorted, as `sort: 1` asks). With
/// `narrowed`, each multi-value variable is set to its first value instead of "All", as a user
/// picking one would. An `Err` when a variable's query fails or finds no values.
async fn resolve_variables(
    prometheus: &Prometheus,
    dashboard: &Dashboard,
    time_range: &TimeRange,
    narrowed: bool,
) -> Result<BTreeMap<String, Variable>, String> {
    let mut variables = builtins(time_range);
    for variable in dashboard.json["templating"]["list"].as_array().into_iter().flatten() {
        let name = variable["name"].as_str().expect("a variable has a name").to_owned();
        let resolved = match variable["type"].as_str() {
            Some("datasource") => Variable::Text("prometheus".into()),
            Some("query") => {
                let query = variable["query"]["query"]
                    .as_str()
                    .or(variable["query"].as_str())
                    .unwrap_or_else(|| panic!("variable {name} has no query"));
                let query = interpolate(query, &variables);
                let values = label_values(prometheus, &query, time_range).await.map_err(|why| {
                    format!(
                        "dashboard {:?} ({}), variable {name}: {query}\n  {why}",
                        dashboard.title(),
                        dashboard.file_name
                    )
                })?;
                let include_all = variable["includeAll"] == true;
                let multi = variable["multi"] == true;
                let saved_all = variable["current"]["value"]
                    .as_array()
                    .is_some_and(|values| values.iter().any(|value| value == "$__all"))
                    || variable["current"]["value"] == "$__all";
                let all = (include_all && saved_all && !(narrowed && multi))
                    .then(|| variable["allValue"].as_str().unwrap_or(".*").to_owned());
                Variable::Selected {
                    values: vec![values[0].clone()],
                    all,
                    regex: include_all || multi,
                }
            }
            other => panic!("variable {name}: the test does not know variables of type {other:?}"),
        };
        variables.insert(name, resolved);
    }
    Ok(variables)
}

/// Grafana's built-in variables for this time range, with the test Prometheus' 1 s scrape
/// interval as the data source's: `$__interval` is the scrape interval (Grafana's floor for it),
/// and `$__rate_interval` max(`$__interval` + scrape interval, 4 × scrape interval).
fn builtins(time_range: &TimeRange) -> BTreeMap<String, Variable> {
    let interval = SCRAPE_INTERVAL.as_secs();
    let rate_interval = (interval + SCRAPE_INTERVAL.as_secs()).max(4 * SCRAPE_INTERVAL.as_secs());
    let range = time_range.seconds();
    [
        ("__interval", format!("{interval}s")),
        ("__interval_ms", format!("{}", interval * 1000)),
        ("__rate_interval", format!("{rate_interval}s")),
        ("__range", format!("{range}s")),
        ("__range_s", format!("{range}")),
        ("__range_ms", format!("{}", range * 1000)),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), Variable::Text(value)))
    .collect()
}

/// Runs a variable's `label_values(selector, label)` or `label_values(label)` the way Grafana's
/// Prometheus data source does: `GET /api/v1/label/<label>/values` with the selector as
/// `match[]` over the time range. The values, sorted; an `Err` when there are none.
async fn label_values(prometheus: &Prometheus, query: &str, time_range: &TimeRange) -> Result<Vec<String>, String> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("the test knows only label_values(...) variable queries: {query}"));
    let (selector, label) = match split_last_top_level_comma(inner) {
        Some((selector, label)) => (Some(selector.trim()), label.trim()),
        None => (None, inner.trim()),
    };
    let mut params = vec![
        ("start", unix_seconds(time_range.from).to_string()),
        ("end", unix_seconds(time_range.to).to_string()),
    ];
    if let Some(selector) = selector {
        params.push(("match[]", selector.to_owned()));
    }
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/label/{label}/values", prometheus.origin))
        .query(&params)
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|error| error.to_string())?;
    if body["status"] != "success" {
        return Err(format!("Prometheus answered {status}: {body}"));
    }
    let mut values: Vec<String> = body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|value| value.as_str().map(str::to_owned))
        .collect();
    values.sort();
    if values.is_empty() {
        return Err("no values".into());
    }
    Ok(values)
}

/// `a{x="1,2"}, b` -> (`a{x="1,2"}`, ` b`): the last comma outside braces, brackets, parentheses
/// and quotes.
fn split_last_top_level_comma(text: &str) -> Option<(&str, &str)> {
    let (mut depth, mut quoted, mut last) = (0i32, false, None);
    let mut previous = '\0';
    for (index, character) in text.char_indices() {
        match character {
            '"' if previous != '\\' => quoted = !quoted,
            '{' | '(' | '[' if !quoted => depth += 1,
            '}' | ')' | ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => last = Some(index),
            _ => {}
        }
        previous = character;
    }
    last.map(|index| (&text[..index], &text[index + 1..]))
}

/// Replaces `$name`, `${name}`, `${name:format}` and `[[name]]` as Grafana's template service does
/// for the Prometheus data source; unknown names (`${1}` in a `label_replace`) stay as they are.
fn interpolate(text: &str, variables: &BTreeMap<String, Variable>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['$', '[']) {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let parsed = if let Some(inner) = candidate.strip_prefix("${") {
            inner.find('}').map(|end| (&inner[..end], end + 3))
        } else if let Some(inner) = candidate.strip_prefix("[[") {
            inner.find("]]").map(|end| (&inner[..end], end + 4))
        } else if let Some(inner) = candidate.strip_prefix('$') {
            let end = inner
                .find(|character: char| !(character.is_ascii_alphanumeric() || character == '_'))
                .unwrap_or(inner.len());
            (end > 0).then(|| (&inner[..end], end + 1))
        } else {
            None
        };
        let replaced = parsed.and_then(|(reference, consumed)| {
            let (name, format) = match reference.split_once(':') {
                Some((name, format)) => (name, Some(format)),
                None => (reference, None),
            };
            variables
                .get(name)
                .map(|variable| (format_variable(variable, format), consumed))
        });
        match replaced {
            Some((value, consumed)) => {
                out.push_str(&value);
                rest = &candidate[consumed..];
            }
            None => {
                let first = candidate.chars().next().unwrap();
                out.push(first);
                rest = &candidate[first.len_utf8()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// One variable's text in a query: the Prometheus data source's own formatting by default
/// (`interpolateQueryExpr`: a single-value variable escaped for a PromQL string, a multi-value or
/// "All" one as an escaped regex, `(a|b)` for several), the custom "All" value as it is, and
/// Grafana's `regex`, `pipe`, `raw`/`csv` formats when named.
fn format_variable(variable: &Variable, format: Option<&str>) -> String {
    let (values, all, regex) = match variable {
        Variable::Text(text) => return text.clone(),
        Variable::Selected { values, all, regex } => (values, all, *regex),
    };
    if let Some(all) = all
        && format != Some("text")
    {
        return all.clone();
    }
    let joined = |escape: fn(&str) -> String| {
        let escaped: Vec<String> = values.iter().map(|value| escape(value)).collect();
        match escaped.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join("|")),
        }
    };
    match format {
        None if !regex => values
            .iter()
            .map(|value| prometheus_regular_escape(value))
            .collect::<Vec<_>>()
            .join(","),
        None => joined(prometheus_regex_escape),
        Some("regex") => joined(regex_escape),
        Some("pipe") => values.join("|"),
        Some("raw") | Some("csv") | Some("text") => values.join(","),
        Some(other) => panic!("the test does not know Grafana's variable format {other:?}"),
    }
}

/// Grafana's `prometheusRegularEscape`: backslashes and single quotes.
fn prometheus_regular_escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\\\'")
}

/// Grafana's `prometheusSpecialRegexEscape`: regex metacharacters escaped for a regex inside a
/// PromQL double-quoted string.
fn prometheus_regex_escape(value: &str) -> String {
    let mut out = String::new();
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\\\\\"),
            '$' | '^' | '*' | '{' | '}' | '[' | ']' | '\'' | '+' | '?' | '.' | '(' | ')' | '|' => {
                out.push_str("\\\\");
                out.push(character);
            }
            other => out.push(other),
        }
    }
    out
}

/// Grafana's `regex` format (lodash-style `escapeRegex`).
fn regex_escape(value: &str) -> String {
    let mut out = String::new();
    for character in value.chars() {
        if "-[]{}()*+?.,\\^$|#".contains(character) || character.is_whitespace() {
            out.push('\\');
        }
        out.push(character);
    }
    out
}

/// Runs the query as the panel would (a range query over the time range every `$__interval`, or
/// an instant one at its end) and says why not when no series holds a finite value, or when a
/// label the legend names (`{{gatehouse_api}}`) is on none of those series (a `by (...)` or legend
/// that names a label the metric does not have shows blank names in Grafana).
async fn has_data(
    prometheus: &Prometheus,
    promql: &str,
    legend: &str,
    instant: bool,
    time_range: &TimeRange,
) -> Result<(), String> {
    let with_data: Vec<BTreeMap<String, String>> = if instant {
        let at_end = prometheus.query(promql).await.map_err(|error| format!("{error:#}"))?;
        at_end
            .into_iter()
            .filter(|sample| sample.value.is_finite())
            .map(|sample| sample.labels)
            .collect()
    } else {
        let series = prometheus
            .query_range(promql, time_range.from, time_range.to, SCRAPE_INTERVAL)
            .await
            .map_err(|error| format!("{error:#}"))?;
        series
            .into_iter()
            .filter(|series| series.points.iter().any(|(_, value)| value.is_finite()))
            .map(|series| series.labels)
            .collect()
    };
    if with_data.is_empty() {
        return Err(format!(
            "no data: an empty {} result, or only NaN",
            if instant { "instant" } else { "range" }
        ));
    }
    for label in legend_labels(legend) {
        if !with_data
            .iter()
            .any(|labels| labels.get(label).is_some_and(|value| !value.is_empty()))
        {
            return Err(format!(
                "the legend {legend:?} names the label {label}, which none of the {} series has",
                with_data.len()
            ));
        }
    }
    Ok(())
}

/// The labels a legend format names: `p95 {{gatehouse_api}} {{ instance }}` -> gatehouse_api, instance.
fn legend_labels(legend: &str) -> Vec<&str> {
    legend
        .split("{{")
        .skip(1)
        .filter_map(|part| part.split_once("}}").map(|(label, _)| label.trim()))
        .collect()
}

fn describe(variables: &BTreeMap<String, Variable>) -> String {
    let chosen: Vec<String> = variables
        .iter()
        .filter_map(|(name, variable)| match variable {
            Variable::Selected { all: Some(_), .. } => Some(format!("{name}=All")),
            Variable::Selected { values, .. } => Some(format!("{name}={}", values.join("|"))),
            Variable::Text(_) => None,
        })
        .collect();
    chosen.join(" ")
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

#[test]
fn variables_are_interpolated_as_grafana_does_for_prometheus() {
    let mut variables = builtins(&TimeRange {
        from: UNIX_EPOCH,
        to: UNIX_EPOCH + Duration::from_secs(300),
    });
    let selected = |values: &[&str], all: Option<&str>, regex: bool| Variable::Selected {
        values: values.iter().map(|value| value.to_string()).collect(),
        all: all.map(str::to_owned),
        regex,
    };
    variables.insert("datasource".into(), Variable::Text("prometheus".into()));
    variables.insert("api".into(), selected(&["shop"], None, false));
    variables.insert("instance".into(), selected(&["127.0.0.1:9"], Some(".*"), true));
    variables.insert("version".into(), selected(&["v1.2", "v2"], None, true));
    let check = |input: &str, expected: &str| assert_eq!(interpolate(input, &variables), expected, "{input}");
    check(
        r#"rate(x{gatehouse_api="$api", instance=~"${instance}"}[$__rate_interval])"#,
        r#"rate(x{gatehouse_api="shop", instance=~".*"}[4s])"#,
    );
    check(r#"x{v=~"$version"}"#, r#"x{v=~"(v1\\.2|v2)"}"#);
    check(r#"x{v=~"${version:regex}"}"#, r#"x{v=~"(v1\.2|v2)"}"#);
    check(r#"x{v=~"${version:pipe}"} [[api]]"#, r#"x{v=~"v1.2|v2"} shop"#);
    check(
        "increase(x[$__range]) $__range_s $__interval",
        "increase(x[300s]) 300 1s",
    );
    check(
        r#"label_replace(y, "c", "${1}xx", "code", "([0-9])..") $unknown $"#,
        r#"label_replace(y, "c", "${1}xx", "code", "([0-9])..") $unknown $"#,
    );
    assert_eq!(
        split_last_top_level_comma(r#"m{a="1,2", b=~"x"}, gatehouse_api"#),
        Some((r#"m{a="1,2", b=~"x"}"#, " gatehouse_api"))
    );
    assert_eq!(split_last_top_level_comma("gatehouse_api"), None);
    assert_eq!(
        legend_labels("p95 {{gatehouse_api}} {{ instance }}"),
        ["gatehouse_api", "instance"]
    );
    assert_eq!(legend_labels("requests/s"), Vec::<&str>::new());
}
