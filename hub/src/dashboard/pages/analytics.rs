//! Analytics: request rate, error rate and latency percentiles over time, for everything or one
//! API, user or application, from the usage summaries the gateways send (`domain::usage`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Deserialize;

use super::{Nav, Shown};
use crate::dashboard::chart::{self, Bar};
use crate::dashboard::error::DashboardError;
use crate::dashboard::session::SignedIn;
use crate::domain::objects;
use crate::domain::usage::{self, UsageDimension, UsagePoint, UsageQuery, UsageTotal};
use crate::http::AppState;
use crate::model::{Api, Application, User};
use crate::store::Store;
use crate::web::render;

/// Requests and errors over a time range, with its chart.
pub struct Traffic {
    pub requests: u64,
    pub errors: u64,
    pub chart: String,
}

impl Traffic {
    pub fn error_rate(&self) -> String {
        rate(&self.errors, &self.requests)
    }
}

/// `errors` of `requests` as a percentage.
pub fn rate(errors: &u64, requests: &u64) -> String {
    let (errors, requests) = (*errors, *requests);
    if requests == 0 {
        return "–".into();
    }
    format!("{:.1} %", errors as f64 * 100.0 / requests as f64)
}

/// The ranges offered, with the step each is drawn at.
const RANGES: [(&str, &str, i64, u32); 4] = [
    ("1h", "last hour", 3600, 60),
    ("6h", "last 6 hours", 6 * 3600, 300),
    ("24h", "last 24 hours", 86_400, 1800),
    ("7d", "last 7 days", 7 * 86_400, 3 * 3600),
];

async fn points(store: &Store, filter: &Filter, now: DateTime<Utc>) -> Result<(Vec<UsagePoint>, u32), DashboardError> {
    let (_, _, seconds, step) = RANGES
        .iter()
        .find(|range| range.0 == filter.range)
        .copied()
        .unwrap_or(RANGES[0]);
    // Steps start on a whole step, and the last holds the current one.
    let until = now.duration_trunc(Duration::seconds(step as i64)).unwrap_or(now) + Duration::seconds(step as i64);
    let query = UsageQuery {
        api: filter.api.clone(),
        user: filter.user.clone(),
        application: filter.application.clone(),
        since: until - Duration::seconds(seconds),
        until,
        step_seconds: step,
    };
    Ok((usage::series(store, &query).await?, step))
}

fn bars(points: &[UsagePoint]) -> Vec<Bar> {
    points
        .iter()
        .map(|point| Bar {
            start: point.start,
            requests: point.requests,
            errors: point.errors,
        })
        .collect()
}

/// The overview's last hour, for everything or one API.
pub async fn last_hour(store: &Store, api: Option<&str>) -> Result<Traffic, DashboardError> {
    let filter = Filter {
        api: api.map(str::to_owned),
        range: "1h".into(),
        ..Filter::default()
    };
    let (points, _) = points(store, &filter, Utc::now()).await?;
    Ok(Traffic {
        requests: points.iter().map(|point| point.requests).sum(),
        errors: points.iter().map(|point| point.errors).sum(),
        chart: chart::requests("overview-requests", &bars(&points)),
    })
}

#[derive(Deserialize, Default, Clone)]
pub struct Filter {
    #[serde(default, deserialize_with = "empty_is_none")]
    api: Option<String>,
    #[serde(default, deserialize_with = "empty_is_none")]
    user: Option<String>,
    #[serde(default, deserialize_with = "empty_is_none")]
    application: Option<String>,
    #[serde(default)]
    range: String,
}

fn empty_is_none<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(deserializer)?;
    Ok(value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty()))
}

#[derive(Template)]
#[template(path = "hub/analytics.html")]
struct AnalyticsPage {
    nav: Option<Nav>,
    filter: Filter,
    subject: String,
    ranges: Vec<(&'static str, &'static str)>,
    apis: Vec<String>,
    users: Vec<String>,
    applications: Vec<(String, String)>,
    requests: u64,
    errors: u64,
    server_errors: u64,
    step: u32,
    requests_chart: String,
    latency_chart: String,
    /// (heading, filter parameter, totals, column heading) for APIs, users and applications.
    tops: Vec<(&'static str, &'static str, Vec<UsageTotal>, &'static str)>,
}

pub async fn page(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Query(mut filter): Query<Filter>,
) -> Result<Response, DashboardError> {
    if !RANGES.iter().any(|range| range.0 == filter.range) {
        filter.range = "1h".into();
    }
    let store = &state.store;
    let now = Utc::now();
    let (points, step) = points(store, &filter, now).await?;
    let starts: Vec<DateTime<Utc>> = points.iter().map(|point| point.start).collect();
    let latency_chart = chart::lines(
        "latency-chart",
        "Latency percentiles per interval",
        "ms",
        &starts,
        &[
            ("p50", points.iter().map(|point| point.p50_ms).collect()),
            ("p95", points.iter().map(|point| point.p95_ms).collect()),
            ("p99", points.iter().map(|point| point.p99_ms).collect()),
        ],
    );
    let since = points.first().map_or(now, |point| point.start);
    let until = points
        .last()
        .map_or(now, |point| point.start + Duration::seconds(step as i64));
    let subject = match (&filter.api, &filter.user, &filter.application) {
        (Some(api), _, _) => format!("API {api}"),
        (_, Some(user), _) => format!("user {user}"),
        (_, _, Some(application)) => format!("application {application}"),
        _ => "all traffic".into(),
    };
    let subject = match (&filter.api, &filter.user) {
        (Some(api), Some(user)) => format!("API {api}, user {user}"),
        _ => subject,
    };
    Ok(render(&AnalyticsPage {
        nav: Nav::of(&signed_in, "analytics"),
        subject,
        ranges: RANGES.iter().map(|range| (range.0, range.1)).collect(),
        apis: objects::all::<Api>(store)
            .await?
            .into_iter()
            .map(|api| api.name)
            .collect(),
        users: objects::all::<User>(store)
            .await?
            .into_iter()
            .map(|user| user.name)
            .collect(),
        applications: objects::all::<Application>(store)
            .await?
            .into_iter()
            // Usage names an application by `owner/name`, as the snapshot does.
            .map(|application| {
                let key = format!("{}/{}", application.owner, application.name);
                (key.clone(), key)
            })
            .collect(),
        requests: points.iter().map(|point| point.requests).sum(),
        errors: points.iter().map(|point| point.errors).sum(),
        server_errors: points.iter().map(|point| point.by_class[4]).sum(),
        step,
        requests_chart: chart::requests("requests-chart", &bars(&points)),
        latency_chart,
        tops: vec![
            (
                "APIs",
                "api",
                usage::top(store, UsageDimension::Api, since, until, 10).await?,
                "API",
            ),
            (
                "users",
                "user",
                usage::top(store, UsageDimension::User, since, until, 10).await?,
                "User",
            ),
            (
                "applications",
                "application",
                usage::top(store, UsageDimension::Application, since, until, 10).await?,
                "Application",
            ),
        ],
        filter,
    }))
}
