//! Reading usage through the admin API: which applications called each API version lately
//! (`GET /api/v1/usage/applications`), what `gatehouse impact --hub` says of a version a change
//! retires or removes. The dashboard reads the same through `domain::usage`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Viewer;
use super::extract::QueryParams;
use super::problem::ApiError;
use crate::domain::usage;

/// The most days asked about: usage is kept 30 days by default.
pub const MAX_DAYS: u32 = 30;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(applications))
}

/// Which calls to look at.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationsParams {
    /// Only this API's calls.
    pub api: Option<String>,
    /// Only this version's calls (with `api`).
    pub version: Option<String>,
    /// How many days back from now, 1 to 30 (default 7).
    pub days: Option<u32>,
}

/// The applications that called API versions in a time range.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationsAnswer {
    /// The range, in Unix seconds: calls whose minute starts in `[since, until)`.
    pub since: i64,
    pub until: i64,
    /// API versions with at least one application's calls, by API then version.
    pub callers: Vec<VersionCallers>,
}

/// One API version and the applications that called it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionCallers {
    pub api: String,
    /// Absent for an API without versions.
    pub version: Option<String>,
    /// `owner/name`, sorted.
    pub applications: Vec<String>,
}

/// Lists the applications (`owner/name`) that called each API version in the last `days`, as the
/// gateways' usage summaries tell. Calls by JWT carry no application and are not counted.
#[utoipa::path(get, path = "/usage/applications", operation_id = "list_usage_applications", tag = "Gateways",
    params(ApplicationsParams),
    responses(
        (status = 200, body = ApplicationsAnswer),
        (status = 400, description = "`days` out of range, or `version` without `api`", body = super::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn applications(
    State(state): State<AppState>,
    _viewer: Viewer,
    QueryParams(params): QueryParams<ApplicationsParams>,
) -> Result<Json<ApplicationsAnswer>, ApiError> {
    let days = params.days.unwrap_or(7);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::rejected(
            StatusCode::BAD_REQUEST,
            Some("days".into()),
            format!("must be 1 to {MAX_DAYS}"),
        ));
    }
    if params.version.is_some() && params.api.is_none() {
        return Err(ApiError::rejected(
            StatusCode::BAD_REQUEST,
            Some("version".into()),
            "name the API too (`api`)",
        ));
    }
    let now = Utc::now();
    let since = now - Duration::days(i64::from(days));
    // Up to the end of the current minute, whose row starts before `now`.
    let until = now + Duration::seconds(usage::MINUTE_SECONDS);
    let callers = usage::callers(&state.store, params.api.as_deref(), since, until)
        .await?
        .into_iter()
        .filter(|((_, version), _)| params.version.is_none() || *version == params.version)
        .map(|((api, version), applications)| VersionCallers {
            api,
            version,
            applications: applications.into_iter().collect(),
        })
        .collect();
    Ok(Json(ApplicationsAnswer {
        since: since.timestamp(),
        until: until.timestamp(),
        callers,
    }))
}
