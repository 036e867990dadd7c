//! The endpoint gateways report their usage to (`POST /api/v1/gateway/usage`, with a gateway
//! token). The analytics it feeds are read through `domain::usage` by the dashboard and the portal.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::JsonBody;
use super::fleet::bearer;
use super::problem::{ApiError, Problem};
use crate::domain::fleet;
use crate::domain::usage::{self, UsageReport};
use crate::error::HubError;

/// The largest usage body taken, whatever the admin API's limit: a full report of 10,000
/// summaries with long names. Gateways send at most 1,000 summaries a report.
pub const MAX_USAGE_BODY_BYTES: usize = 8 << 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(gateway_usage))
        .layer(DefaultBodyLimit::max(MAX_USAGE_BODY_BYTES))
}

/// A gateway's usage summaries: requests per minute, API, version, user, application, key and
/// status class, with a latency histogram. Stored whole or not at all: a bad report is a 400
/// naming each field at fault (`summaries[3].status_class`), and stores nothing.
#[utoipa::path(post, path = "/gateway/usage", operation_id = "report_gateway_usage", tag = "Gateways",
    request_body = UsageReport,
    responses(
        (status = 204, description = "Stored"),
        (status = 400, description = "The report is not JSON, or breaks a rule; `errors` names each field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn gateway_usage(
    State(state): State<AppState>,
    headers: HeaderMap,
    report: Result<JsonBody<UsageReport>, ApiError>,
) -> Result<StatusCode, ApiError> {
    // The token first: who may not report learns nothing about the body.
    let gateway = fleet::authenticate(&state.store, bearer(&headers)?).await?;
    let JsonBody(report) = report.map_err(bad_request)?;
    usage::ingest(&state.store, &gateway, report, Utc::now())
        .await
        .map_err(|error| bad_request(error.into()))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A report that breaks a rule, or has the wrong shape, is refused as a bad request (the admin
/// API says 422): the gateway drops a report the hub refuses with any 4xx but 401, 403, 408 and 429.
fn bad_request(error: ApiError) -> ApiError {
    match error {
        ApiError::Hub(HubError::Invalid(errors)) => {
            let parts: Vec<String> = errors
                .iter()
                .map(|error| format!("{}: {}", error.field, error.message))
                .collect();
            ApiError::Rejected {
                status: StatusCode::BAD_REQUEST,
                detail: parts.join("; "),
                errors,
            }
        }
        ApiError::Rejected { status, detail, errors } if status == StatusCode::UNPROCESSABLE_ENTITY => {
            ApiError::Rejected {
                status: StatusCode::BAD_REQUEST,
                detail,
                errors,
            }
        }
        other => other,
    }
}
