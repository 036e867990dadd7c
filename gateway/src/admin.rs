//! The admin port: liveness, readiness (a snapshot is loaded), the running snapshot with
//! secrets redacted (`/config`), a consumer's usage of a plan (`/usage`, for the developer
//! portal), and Prometheus metrics. Never exposed with the proxy port.

use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Full;

use crate::limit::QuotaPeriod;
use crate::runtime::Runtime;
use crate::snapshot::LimitBy;

/// Answers one admin request.
pub async fn handle<B>(runtime: &Runtime, request: &Request<B>) -> Response<Full<Bytes>> {
    match request.uri().path() {
        "/usage" => usage(runtime, request.uri().query().unwrap_or("")).await,
        "/keys/last-used" => last_used(runtime, request.uri().query().unwrap_or("")),
        "/healthz" => json(StatusCode::OK, serde_json::json!({ "status": "ok" })),
        "/readyz" if runtime.is_ready() => {
            let loaded = runtime.current();
            json(
                StatusCode::OK,
                serde_json::json!({ "status": "ready", "revision": loaded.compiled.revision }),
            )
        }
        "/readyz" => json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "status": "no snapshot loaded yet" }),
        ),
        "/config" => match redacted_config(runtime) {
            Some(document) => json(StatusCode::OK, document),
            None => json(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "status": "the last good file no longer holds the running snapshot's document (a newer one is being applied, or it was changed); ask again" }),
            ),
        },
        "/metrics" => {
            let text = runtime
                .telemetry
                .metrics
                .encode(&crate::telemetry::FleetReadings::read(runtime));
            let mut response = Response::new(Full::new(Bytes::from(text)));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            );
            response
        }
        _ => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "status": "no such admin endpoint" }),
        ),
    }
}

/// `/usage?plan=P&user=U[&application=OWNER/NAME]`: how much of plan P the user (or, for a plan
/// that counts per application, the application) has used, as the limiter holds it: read, not
/// counted.
async fn usage(runtime: &Runtime, query: &str) -> Response<Full<Bytes>> {
    let mut plan = None;
    let mut user = None;
    let mut application = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "plan" => plan = Some(value.into_owned()),
            "user" => user = Some(value.into_owned()),
            "application" => application = Some(value.into_owned()),
            _ => {}
        }
    }
    let (Some(plan), Some(user)) = (plan, user) else {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({ "status": "usage needs `plan` and `user` (and `application` for plans counted per application)" }),
        );
    };
    let loaded = runtime.current();
    let Some(index) = loaded.compiled.plans.iter().position(|spec| spec.name == plan) else {
        return json(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "status": format!("no plan `{plan}` in the running snapshot") }),
        );
    };
    let limit_by = loaded.compiled.plans[index].limit_by;
    // The same keys as the rate-limit step: `u:` a user, `a:` an application.
    let key = match (limit_by, &application) {
        (LimitBy::Application, Some(application)) => format!("a:{application}"),
        _ => format!("u:{user}"),
    };
    let Some(usage) = runtime
        .limiter
        .usage(&key, &loaded.plan_limits[index], SystemTime::now())
        .await
    else {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "status": "the rate-limit store does not answer" }),
        );
    };
    let rate = usage.rate.map(|rate| {
        serde_json::json!({ "limit": rate.limit, "remaining": rate.remaining, "reset_seconds": rate.reset.as_secs_f64().ceil() as u64 })
    });
    let quota = usage.quota.map(|quota| {
        let period = match quota.period {
            QuotaPeriod::Day => "day",
            QuotaPeriod::Month => "month",
        };
        serde_json::json!({ "limit": quota.limit, "used": quota.used, "period": period, "reset_seconds": quota.reset.as_secs() })
    });
    let limit_by = match limit_by {
        LimitBy::Consumer => "consumer",
        LimitBy::Application => "application",
    };
    json(
        StatusCode::OK,
        serde_json::json!({ "plan": plan, "limit_by": limit_by, "key": key, "rate_limit": rate, "quota": quota }),
    )
}

/// `/keys/last-used?id=K&id=…`: when this gateway last saw each key used (Unix seconds); keys
/// not used since it started are left out. At most 500 ids a call.
fn last_used(runtime: &Runtime, query: &str) -> Response<Full<Bytes>> {
    let ids: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "id")
        .map(|(_, value)| value.into_owned())
        .collect();
    if ids.len() > 500 {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({ "status": "at most 500 ids a call" }),
        );
    }
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let loaded = runtime.current();
    let used: serde_json::Map<String, serde_json::Value> = loaded
        .compiled
        .consumers
        .last_used(&ids)
        .map(|(id, seconds)| (id.to_owned(), seconds.into()))
        .collect();
    json(StatusCode::OK, serde_json::json!({ "last_used": used }))
}

/// The snapshot in force, as loaded, with key hashes cut to a prefix (enough to tell keys
/// apart, not enough to look one up) and upstream private keys replaced by `(redacted)`.
fn redacted_config(runtime: &Runtime) -> Option<serde_json::Value> {
    // The empty start has no document.
    if !runtime.is_ready() {
        return Some(serde_json::Value::Null);
    }
    let loaded = runtime.current();
    let mut document: serde_json::Value = serde_json::from_slice(&runtime.document(&loaded)?).unwrap_or_default();
    if let Some(consumers) = document
        .get_mut("consumers")
        .and_then(|consumers| consumers.as_array_mut())
    {
        for consumer in consumers {
            if let Some(hash) = consumer.get_mut("key_hash") {
                let prefix: String = hash.as_str().unwrap_or("").chars().take(8).collect();
                *hash = serde_json::Value::String(format!("{prefix}… (redacted)"));
            }
        }
    }
    crate::upstream::tls::redact_document(&mut document);
    crate::tls::redact_keys(&mut document);
    Some(document)
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
