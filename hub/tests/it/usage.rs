//! Usage analytics: summaries reported through `POST /api/v1/gateway/usage` with a gateway token,
//! read back by `domain::usage` (series, top, last used) exactly; bad reports refused naming the
//! field and storing nothing; the rollup keeping every total; the retention; and a real gateway
//! following this hub over HTTP, whose requests show up in the series.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use gateway::telemetry::N_LATENCY_BUCKETS;
use hub::domain::usage::{self, UsageDimension, UsagePoint, UsageQuery, UsageSettings, UsageTotal};
use serde_json::{Value, json};

use crate::support::{TestApp, on_both_stores};

on_both_stores!(
    reported_usage_reads_back_exactly,
    bad_reports_are_refused_naming_the_field_and_store_nothing,
    usage_needs_a_gateway_token,
    series_queries_are_checked,
    rollup_keeps_every_total_and_the_percentiles,
    retention_deletes_old_usage,
    a_gateway_following_the_hub_reports_every_request,
);

/// A summary as a gateway sends it.
#[derive(Debug, Clone)]
struct Sent {
    minute: i64,
    api: &'static str,
    /// (user, application, key)
    caller: Option<(&'static str, &'static str, &'static str)>,
    status_class: &'static str,
    /// (bucket, requests)
    latency: Vec<(usize, u64)>,
}

impl Sent {
    fn requests(&self) -> u64 {
        self.latency.iter().map(|(_, requests)| requests).sum()
    }

    fn json(&self) -> Value {
        let mut buckets = [0u64; N_LATENCY_BUCKETS];
        for &(bucket, requests) in &self.latency {
            buckets[bucket] += requests;
        }
        json!({
            "minute": time(self.minute).to_rfc3339(),
            "api": self.api,
            "version": "v1",
            "user": self.caller.map(|caller| caller.0),
            "application": self.caller.map(|caller| caller.1),
            "key": self.caller.map(|caller| caller.2),
            "status_class": self.status_class,
            "requests": self.requests(),
            "latency_ms_buckets": buckets,
        })
    }
}

fn time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

fn report(sent: &[Sent]) -> Value {
    json!({ "instance": "edge-1-4242", "summaries": sent.iter().map(Sent::json).collect::<Vec<_>>() })
}

/// The start of the minute (or hour, for 3600) `seconds` falls in.
fn floor(seconds: i64, unit: i64) -> i64 {
    seconds - seconds.rem_euclid(unit)
}

/// Registers gateway `name` and returns a token of it.
async fn gateway_token(app: &TestApp, name: &str) -> String {
    app.create("/api/v1/gateways", json!({ "name": name })).await;
    let issued = app
        .create(&format!("/api/v1/gateways/{name}/tokens"), json!({ "name": name }))
        .await;
    issued["secret"].as_str().unwrap().to_owned()
}

async fn post(app: &TestApp, token: &str, body: Value) -> crate::support::Response {
    app.as_token(token, "POST", "/api/v1/gateway/usage", Some(body)).await
}

async fn post_ok(app: &TestApp, token: &str, sent: &[Sent]) {
    let response = post(app, token, report(sent)).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.text);
}

/// (start, requests, by class, errors) of each step, summed from what was sent.
fn expected_series(
    sent: &[Sent],
    keep: impl Fn(&Sent) -> bool,
    since: i64,
    until: i64,
    step: i64,
) -> Vec<(i64, u64, [u64; 5], u64)> {
    let mut points: Vec<(i64, u64, [u64; 5], u64)> = (since..until)
        .step_by(step as usize)
        .map(|start| (start, 0, [0; 5], 0))
        .collect();
    for summary in sent.iter().filter(|summary| keep(summary)) {
        if summary.minute < since || summary.minute >= until {
            continue;
        }
        let point = &mut points[((summary.minute - since) / step) as usize];
        let class = ["1xx", "2xx", "3xx", "4xx", "5xx"]
            .iter()
            .position(|class| *class == summary.status_class)
            .unwrap();
        point.1 += summary.requests();
        point.2[class] += summary.requests();
        if class >= 3 {
            point.3 += summary.requests();
        }
    }
    points
}

/// A point's counts, and its percentiles checked for sense.
fn counts(points: &[UsagePoint]) -> Vec<(i64, u64, [u64; 5], u64)> {
    for point in points {
        let percentiles = [point.p50_ms, point.p95_ms, point.p99_ms];
        if point.requests == 0 {
            assert_eq!(percentiles, [None; 3], "{point:?}");
            continue;
        }
        let [p50, p95, p99] = percentiles.map(|percentile| percentile.expect("a percentile with requests"));
        assert!(0.0 <= p50 && p50 <= p95 && p95 <= p99 && p99 <= 10_000.0, "{point:?}");
    }
    points
        .iter()
        .map(|point| (point.start.timestamp(), point.requests, point.by_class, point.errors))
        .collect()
}

async fn series(
    app: &TestApp,
    api: Option<&str>,
    user: Option<&str>,
    application: Option<&str>,
    (since, until, step): (i64, i64, u32),
) -> Vec<UsagePoint> {
    let query = UsageQuery {
        api: api.map(str::to_owned),
        user: user.map(str::to_owned),
        application: application.map(str::to_owned),
        since: time(since),
        until: time(until),
        step_seconds: step,
    };
    usage::series(&app.store, &query).await.expect("a series")
}

/// The totals per name of what was sent, the most requests first (ties by name).
fn expected_top(sent: &[Sent], name: impl Fn(&Sent) -> Option<&'static str>) -> Vec<UsageTotal> {
    let mut totals: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for summary in sent {
        if let Some(name) = name(summary) {
            let total = totals.entry(name).or_default();
            total.0 += summary.requests();
            if summary.status_class.starts_with('4') || summary.status_class.starts_with('5') {
                total.1 += summary.requests();
            }
        }
    }
    let mut totals: Vec<UsageTotal> = totals
        .into_iter()
        .map(|(name, (requests, errors))| UsageTotal {
            name: name.into(),
            requests,
            errors,
        })
        .collect();
    totals.sort_by(|left, right| right.requests.cmp(&left.requests).then(left.name.cmp(&right.name)));
    totals
}

fn expected_last_used(sent: &[Sent], name: impl Fn(&Sent) -> Option<&'static str>) -> HashMap<String, DateTime<Utc>> {
    let mut last = HashMap::new();
    for summary in sent {
        if let Some(name) = name(summary) {
            let seen = last.entry(name.to_owned()).or_insert(time(summary.minute));
            *seen = (*seen).max(time(summary.minute));
        }
    }
    last
}

const ALICE: Option<(&str, &str, &str)> = Some(("alice", "alice/billing", "key_alice"));
const ALICE_CI: Option<(&str, &str, &str)> = Some(("alice", "alice/ci", "key_alice_ci"));
const BOB: Option<(&str, &str, &str)> = Some(("bob", "bob/app", "key_bob"));

/// A few minutes of mixed traffic, from `base` on.
fn traffic(base: i64) -> Vec<Sent> {
    let sent = |minute: i64, api, caller, status_class, latency: &[(usize, u64)]| Sent {
        minute: base + minute * 60,
        api,
        caller,
        status_class,
        latency: latency.to_vec(),
    };
    vec![
        sent(0, "pets", ALICE, "2xx", &[(0, 5), (4, 3)]),
        sent(0, "pets", ALICE, "5xx", &[(9, 1)]),
        sent(1, "pets", BOB, "2xx", &[(2, 2)]),
        sent(2, "pets", None, "4xx", &[(0, 4)]),
        sent(2, "weather", ALICE_CI, "4xx", &[(1, 3)]),
        sent(3, "pets", ALICE, "2xx", &[(3, 7), (13, 1)]),
        sent(4, "weather", BOB, "2xx", &[(5, 6)]),
    ]
}

async fn reported_usage_reads_back_exactly(app: TestApp) {
    let token = gateway_token(&app, "edge-1").await;
    let base = floor(Utc::now().timestamp(), 60) - 10 * 60;
    let mut sent = traffic(base);
    // In two reports, the second repeating a minute and key of the first: they add up.
    post_ok(&app, &token, &sent[..4]).await;
    sent.push(sent[0].clone());
    post_ok(&app, &token, &sent[4..]).await;

    let (since, until) = (base, base + 6 * 60);
    for step in [60, 120, 3600] {
        let range = (since, until, step);
        let step = i64::from(step);
        assert_eq!(
            counts(&series(&app, None, None, None, range).await),
            expected_series(&sent, |_| true, since, until, step),
            "everything, step {step}"
        );
        assert_eq!(
            counts(&series(&app, Some("pets"), None, None, range).await),
            expected_series(&sent, |summary| summary.api == "pets", since, until, step),
            "pets, step {step}"
        );
        assert_eq!(
            counts(&series(&app, Some("pets"), Some("alice"), None, range).await),
            expected_series(
                &sent,
                |summary| summary.api == "pets" && summary.caller.map(|caller| caller.0) == Some("alice"),
                since,
                until,
                step
            ),
            "alice's pets, step {step}"
        );
        assert_eq!(
            counts(&series(&app, None, None, Some("bob/app"), range).await),
            expected_series(
                &sent,
                |summary| summary.caller.map(|caller| caller.1) == Some("bob/app"),
                since,
                until,
                step
            ),
            "bob's application, step {step}"
        );
    }
    let later = series(&app, None, None, None, (until, until + 600, 60)).await;
    assert!(later.iter().all(|point| point.requests == 0), "zero-filled");
    assert_eq!(later.len(), 10);

    let (since, until) = (time(since), time(until));
    for (by, name) in [
        (
            UsageDimension::Api,
            (|summary: &Sent| Some(summary.api)) as fn(&Sent) -> Option<&'static str>,
        ),
        (UsageDimension::User, |summary| summary.caller.map(|caller| caller.0)),
        (UsageDimension::Application, |summary| {
            summary.caller.map(|caller| caller.1)
        }),
        (UsageDimension::Key, |summary| summary.caller.map(|caller| caller.2)),
    ] {
        let top = usage::top(&app.store, by, since, until, 10).await.unwrap();
        assert_eq!(top, expected_top(&sent, name), "{by:?}");
        let first = usage::top(&app.store, by, since, until, 1).await.unwrap();
        assert_eq!(first, top[..1], "{by:?}, limit 1");
        let last = usage::last_used(&app.store, by).await.unwrap();
        assert_eq!(last, expected_last_used(&sent, name), "{by:?}");
    }
    let outside = usage::top(
        &app.store,
        UsageDimension::Api,
        until,
        until + chrono::Duration::hours(1),
        10,
    )
    .await
    .unwrap();
    assert_eq!(outside, vec![], "nothing after the traffic");
}

async fn stored_requests(app: &TestApp) -> u64 {
    let now = Utc::now().timestamp();
    let totals = usage::top(&app.store, UsageDimension::Api, time(0), time(now + 3600), 100)
        .await
        .unwrap();
    totals.iter().map(|total| total.requests).sum()
}

async fn bad_reports_are_refused_naming_the_field_and_store_nothing(app: TestApp) {
    let token = gateway_token(&app, "edge-1").await;
    let base = floor(Utc::now().timestamp(), 60) - 5 * 60;
    let good = traffic(base);
    let summary = |change: &dyn Fn(&mut Value)| {
        let mut body = report(&good[..1]);
        change(&mut body["summaries"][0]);
        body
    };
    let mut mixed = report(&good);
    mixed["summaries"][2]["status_class"] = json!("2XX");
    mixed["summaries"][4]["latency_ms_buckets"] = json!([1, 2]);
    for (body, fields) in [
        (
            mixed,
            vec!["summaries[2].status_class", "summaries[4].latency_ms_buckets"],
        ),
        (
            summary(&|summary| summary["requests"] = json!(99)),
            vec!["summaries[0].requests"],
        ),
        (
            summary(&|summary| summary["minute"] = json!(time(base + 30).to_rfc3339())),
            vec!["summaries[0].minute"],
        ),
        (
            summary(&|summary| summary["minute"] = json!(time(base + 86_400).to_rfc3339())),
            vec!["summaries[0].minute"],
        ),
        (
            summary(&|summary| summary["requests"] = json!("many")),
            vec!["summaries[0].requests"],
        ),
        (
            summary(&|summary| {
                summary.as_object_mut().unwrap().remove("api");
            }),
            vec!["summaries[0]"],
        ),
        (json!({ "summaries": [] }), vec![]),
        (json!({ "instance": "", "summaries": [] }), vec!["instance"]),
    ] {
        let response = post(&app, &token, body.clone()).await;
        let named = response.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(named, fields, "{body}: {}", response.text);
    }
    let malformed = app
        .send(
            "POST",
            "/api/v1/gateway/usage",
            Some(&format!("Bearer {token}")),
            Some(Body::from("{\"instance\": ")),
            Some("application/json"),
        )
        .await;
    malformed.assert_problem(StatusCode::BAD_REQUEST);
    let huge = format!(
        "{{\"instance\": \"{}\", \"summaries\": []}}",
        "x".repeat(hub::http::usage::MAX_USAGE_BODY_BYTES)
    );
    let too_large = app
        .send(
            "POST",
            "/api/v1/gateway/usage",
            Some(&format!("Bearer {token}")),
            Some(Body::from(huge)),
            Some("application/json"),
        )
        .await;
    too_large.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(stored_requests(&app).await, 0, "nothing of a refused report is stored");

    // The same report, mended, is taken whole.
    post_ok(&app, &token, &good).await;
    assert_eq!(
        stored_requests(&app).await,
        good.iter().map(Sent::requests).sum::<u64>()
    );
}

async fn usage_needs_a_gateway_token(app: TestApp) {
    let token = gateway_token(&app, "edge-1").await;
    let body = report(&traffic(floor(Utc::now().timestamp(), 60) - 600));
    let unsigned = app
        .send(
            "POST",
            "/api/v1/gateway/usage",
            None,
            Some(Body::from(body.to_string())),
            Some("application/json"),
        )
        .await;
    unsigned.assert_problem(StatusCode::UNAUTHORIZED);
    for wrong in [app.admin.clone(), format!("{token}x"), "ghgw_nothing".into()] {
        post(&app, &wrong, body.clone())
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    // Refused before the body is read: a bad body with a bad token says 401, not 400.
    post(&app, "ghgw_nothing", json!({ "nonsense": true }))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let tokens = app.admin("GET", "/api/v1/gateways/edge-1/tokens", None).await.json;
    let id = tokens["items"][0]["id"].as_str().unwrap();
    app.admin("DELETE", &format!("/api/v1/gateways/edge-1/tokens/{id}"), None)
        .await;
    post(&app, &token, body).await.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(stored_requests(&app).await, 0);
}

async fn series_queries_are_checked(app: TestApp) {
    let now = floor(Utc::now().timestamp(), 60);
    for ((since, until, step), field) in [
        ((now, now, 60), "until"),
        ((now, now - 60, 60), "until"),
        ((now - 3600, now, 30), "step_seconds"),
        ((now - 30 * 86_400, now, 60), "step_seconds"),
    ] {
        let query = UsageQuery {
            api: None,
            user: None,
            application: None,
            since: time(since),
            until: time(until),
            step_seconds: step,
        };
        match usage::series(&app.store, &query).await {
            Err(hub::HubError::Invalid(errors)) => assert_eq!(errors[0].field, field, "{query:?}"),
            other => panic!("{query:?}: {other:?}"),
        }
    }
}

async fn rollup_keeps_every_total_and_the_percentiles(app: TestApp) {
    let token = gateway_token(&app, "edge-1").await;
    let now = Utc::now().timestamp();
    let this_hour = floor(now, 3600);
    // Minute rows spread over the hours from 52 to 49 hours ago, and some of the last minutes.
    let old_start = this_hour - 52 * 3600;
    let mut old = Vec::new();
    for step in 0..30 {
        let minute = old_start + step * 7 * 60;
        let caller = [ALICE, BOB, None][step as usize % 3];
        let status_class = ["2xx", "4xx", "2xx", "5xx"][step as usize % 4];
        old.push(Sent {
            minute,
            api: if step % 2 == 0 { "pets" } else { "weather" },
            caller,
            status_class,
            latency: vec![(step as usize % N_LATENCY_BUCKETS, 1 + step as u64 % 5), (3, 2)],
        });
    }
    let recent = traffic(floor(now, 60) - 10 * 60);
    post_ok(&app, &token, &old).await;
    post_ok(&app, &token, &recent).await;
    let everything = (old_start, this_hour + 3600, 3600);
    let before = series(&app, None, None, None, everything).await;
    let pets_before = series(&app, Some("pets"), None, None, everything).await;
    let recent_range = (floor(now, 60) - 10 * 60, floor(now, 60) + 60, 60);
    let recent_before = series(&app, None, None, None, recent_range).await;
    let tops_before = tops(&app, old_start, now + 3600).await;

    let maintained = usage::maintain(&app.store, time(now), &UsageSettings::default())
        .await
        .unwrap();
    let mut hours: Vec<_> = old
        .iter()
        .map(|summary| {
            (
                floor(summary.minute, 3600),
                summary.api,
                summary.caller,
                summary.status_class,
            )
        })
        .collect();
    hours.sort();
    hours.dedup();
    assert_eq!(
        (
            maintained.minute_rows_rolled_up,
            maintained.hour_rows_written,
            maintained.rows_deleted
        ),
        (old.len() as u64, hours.len() as u64, 0)
    );
    assert_eq!(
        series(&app, None, None, None, everything).await,
        before,
        "by the hour, nothing changed"
    );
    assert_eq!(series(&app, Some("pets"), None, None, everything).await, pets_before);
    assert_eq!(
        series(&app, None, None, None, recent_range).await,
        recent_before,
        "recent minutes stay"
    );
    assert_eq!(tops(&app, old_start, now + 3600).await, tops_before);
    let by_minute = series(&app, None, None, None, (old_start, this_hour - 48 * 3600, 60)).await;
    let hour_starts: Vec<i64> = by_minute
        .iter()
        .filter(|point| point.requests > 0)
        .map(|point| point.start.timestamp())
        .collect();
    assert!(
        hour_starts.iter().all(|start| start % 3600 == 0),
        "old usage is kept by the hour: {hour_starts:?}"
    );
    assert_eq!(
        by_minute.iter().map(|point| point.requests).sum::<u64>(),
        old.iter().map(Sent::requests).sum::<u64>()
    );

    let again = usage::maintain(&app.store, time(now), &UsageSettings::default())
        .await
        .unwrap();
    assert_eq!(again, usage::Maintained::default(), "nothing left to do");
}

async fn tops(app: &TestApp, since: i64, until: i64) -> Vec<Vec<UsageTotal>> {
    let mut tops = Vec::new();
    for by in [
        UsageDimension::Api,
        UsageDimension::User,
        UsageDimension::Application,
        UsageDimension::Key,
    ] {
        tops.push(usage::top(&app.store, by, time(since), time(until), 100).await.unwrap());
    }
    tops
}

async fn retention_deletes_old_usage(app: TestApp) {
    let token = gateway_token(&app, "edge-1").await;
    let now = Utc::now().timestamp();
    let day = 86_400;
    let old = [traffic(floor(now - 40 * day, 60)), traffic(floor(now - 31 * day, 60))].concat();
    let recent = traffic(floor(now - day, 60));
    post_ok(&app, &token, &old).await;
    post_ok(&app, &token, &recent).await;

    let maintained = usage::maintain(&app.store, time(now), &UsageSettings::default())
        .await
        .unwrap();
    assert_eq!(maintained.rows_deleted, old.len() as u64);
    let by_day = series(
        &app,
        None,
        None,
        None,
        (floor(now, day) - 41 * day, floor(now, day) + day, 86_400),
    )
    .await;
    assert_eq!(
        by_day.iter().map(|point| point.requests).sum::<u64>(),
        recent.iter().map(Sent::requests).sum::<u64>(),
        "only what is younger than the retention is left"
    );

    let short = UsageSettings {
        retention: Duration::from_secs(3600),
        ..UsageSettings::default()
    };
    let maintained = usage::maintain(&app.store, time(now), &short).await.unwrap();
    assert_eq!(maintained.rows_deleted, recent.len() as u64);
    assert_eq!(stored_requests(&app).await, 0);
}

// === a real gateway, following this hub over HTTP ===

async fn a_gateway_following_the_hub_reports_every_request(app: TestApp) {
    let upstream = end_to_end::upstream().await;
    app.create(
        "/api/v1/apis",
        json!({ "name": "pets", "route": { "path_prefix": "/pets" }, "upstream": { "targets": [{ "url": upstream }] } }),
    )
    .await;
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    app.create(
        "/api/v1/plans",
        json!({ "name": "gold", "rate_limit": { "requests": 1000, "window_seconds": 1 } }),
    )
    .await;
    app.create("/api/v1/access-policies", json!({
        "name": "partners-pets", "groups": ["partners"], "plan": "gold", "apis": [{ "api": "pets", "methods": ["GET"] }]
    }))
    .await;
    app.create("/api/v1/users", json!({ "name": "alice", "groups": ["partners"] }))
        .await;
    let application = app
        .create("/api/v1/applications", json!({ "name": "billing", "owner": "alice" }))
        .await;
    let issued = app
        .create(
            &format!("/api/v1/applications/{}/keys", application["id"].as_str().unwrap()),
            json!({ "name": "ci" }),
        )
        .await;
    let (key, key_id) = (
        issued["secret"].as_str().unwrap().to_owned(),
        issued["key"]["id"].as_str().unwrap().to_owned(),
    );
    let token = gateway_token(&app, "edge-1").await;
    let published = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": "first" })))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);

    let started = Utc::now();
    let hub = end_to_end::Hub::serve(app.store.clone()).await;
    let gateway = end_to_end::Gateway::follow(&hub.url, &token).await;

    let (n_allowed, n_refused, n_anonymous) = (9, 4, 2);
    for (n, method, key, status) in [
        (n_allowed, "GET", Some(key.as_str()), 200),
        (n_refused, "DELETE", Some(key.as_str()), 403),
        (n_anonymous, "GET", None, 401),
    ] {
        for _ in 0..n {
            assert_eq!(
                gateway.call(method, "/pets/list", key).await,
                status,
                "{method} with {key:?}"
            );
        }
    }

    let query = UsageQuery {
        api: Some("pets".into()),
        user: Some("alice".into()),
        application: None,
        since: time(floor(started.timestamp(), 60)),
        until: time(floor(Utc::now().timestamp(), 60) + 120),
        step_seconds: 60,
    };
    let total = n_allowed + n_refused;
    let everything = UsageQuery {
        user: None,
        ..query.clone()
    };
    let requests = |points: &[UsagePoint]| points.iter().map(|point| point.requests).sum::<u64>();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while requests(&usage::series(&app.store, &everything).await.unwrap()) < total + n_anonymous {
        assert!(
            std::time::Instant::now() < deadline,
            "the requests did not reach the hub"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One more period: nothing is counted twice.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        requests(&usage::series(&app.store, &everything).await.unwrap()),
        total + n_anonymous,
        "the requests without a key count for the API too"
    );
    let points = usage::series(&app.store, &query).await.unwrap();
    let mut by_class = [0; 5];
    for (_, _, classes, _) in counts(&points) {
        for (sum, count) in by_class.iter_mut().zip(classes) {
            *sum += count;
        }
    }
    assert_eq!(
        by_class,
        [0, n_allowed, 0, n_refused, 0],
        "alice's requests of pets by class"
    );
    let last = usage::last_used(&app.store, UsageDimension::Key).await.unwrap();
    let last_minute = last.get(&key_id).copied().expect("the key's last use");
    assert!(last_minute >= query.since && last_minute <= Utc::now(), "{last_minute}");
    let top = usage::top(&app.store, UsageDimension::Application, query.since, query.until, 10)
        .await
        .unwrap();
    assert_eq!(
        top,
        vec![UsageTotal {
            name: "alice/billing".into(),
            requests: total,
            errors: n_refused
        }]
    );
    drop(gateway);
    hub.stop().await;
}

mod end_to_end {
    //! A hub served on a loopback port and a gateway process-in-the-test following it, both as
    //! their binaries start them, and an upstream.

    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An upstream that answers 200 to anything.
    pub async fn upstream() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(|| async { "ok" });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    pub struct Hub {
        pub url: String,
        stop: tokio::sync::oneshot::Sender<()>,
        served: tokio::task::JoinHandle<std::io::Result<()>>,
    }

    impl Hub {
        /// `hub::server::serve` over `store`, as `gatehouse hub` runs it.
        pub async fn serve(store: hub::Store) -> Hub {
            let config = hub::HubConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                ..hub::HubConfig::default()
            };
            let listener = hub::server::bind(&config).await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let served = tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.await;
                };
                hub::server::serve(
                    listener,
                    store,
                    &config,
                    hub::distribution::RevisionFeed::default(),
                    shutdown,
                )
                .await
            });
            Hub { url, stop, served }
        }

        pub async fn stop(self) {
            let _ = self.stop.send(());
            let _ = tokio::time::timeout(Duration::from_secs(5), self.served).await;
        }
    }

    pub struct Gateway {
        proxy: std::net::SocketAddr,
        data_dir: std::path::PathBuf,
        stop: Option<tokio::sync::watch::Sender<bool>>,
    }

    impl Gateway {
        /// `gateway::start` following the hub at `url`, reporting usage every second; ready
        /// when this returns.
        pub async fn follow(url: &str, token: &str) -> Gateway {
            let data_dir = std::env::temp_dir().join(format!("gatehouse-usage-{}", uuid::Uuid::new_v4().simple()));
            let config = gateway::config::GatewayConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                admin_listen: "127.0.0.1:0".parse().unwrap(),
                data_dir: data_dir.clone(),
                hub_url: Some(url.to_owned()),
                hub_token: Some(token.to_owned()),
                usage_interval: Duration::from_secs(1),
                workers: 1,
                ..gateway::config::GatewayConfig::default()
            };
            let started = gateway::start::start(config).await.expect("the gateway starts");
            let (proxy, admin) = (started.proxy_address, started.admin_address);
            let (stop, mut stopped) = tokio::sync::watch::channel(false);
            tokio::spawn(started.serve(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }));
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while request(admin, "GET", "/readyz", None).await != 200 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the gateway did not get the revision"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Gateway {
                proxy,
                data_dir,
                stop: Some(stop),
            }
        }

        /// The status of one request through the gateway.
        pub async fn call(&self, method: &str, path: &str, api_key: Option<&str>) -> u16 {
            request(self.proxy, method, path, api_key).await
        }
    }

    impl Drop for Gateway {
        fn drop(&mut self) {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(true);
            }
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }

    /// One HTTP/1.1 request on its own connection; the response's status, 0 when none came.
    async fn request(address: std::net::SocketAddr, method: &str, path: &str, api_key: Option<&str>) -> u16 {
        let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
            return 0;
        };
        let key = api_key.map(|key| format!("x-api-key: {key}\r\n")).unwrap_or_default();
        let head = format!("{method} {path} HTTP/1.1\r\nhost: {address}\r\n{key}connection: close\r\n\r\n");
        if stream.write_all(head.as_bytes()).await.is_err() {
            return 0;
        }
        let mut response = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await;
        let text = String::from_utf8_lossy(&response);
        text.split(' ')
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or(0)
    }
}
