//! The change events route: each published revision, newest first, filterable by time.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Viewer;
use super::extract::QueryParams;
use super::problem::{ApiError, Problem};
use crate::domain::events::{self, EventFilter, EventPage};
use crate::model::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::validate::{Checker, FieldError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Paging and time filters for events. Read as text, so that every bad one is named in `errors`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventListParams {
    /// Only revisions numbered below this one: the `next_before` of the previous page.
    #[param(value_type = Option<i64>)]
    pub before: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Only revisions published at or after this time (RFC 3339, e.g. `2025-01-31T12:00:00Z`).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub since: Option<String>,
    /// Only revisions published before this time (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub until: Option<String>,
}

/// Lists change events (each published revision: publish or rollback, with its author, message
/// and source commit), newest first.
#[utoipa::path(get, path = "/events", operation_id = "list_events", tag = "Events",
    params(EventListParams),
    responses(
        (status = 200, body = EventPage),
        (status = 400, description = "A parameter is malformed; `errors` names each", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _viewer: Viewer,
    QueryParams(params): QueryParams<EventListParams>,
) -> Result<Json<EventPage>, ApiError> {
    let filter = params.into_filter()?;
    Ok(Json(events::list(&state.store, &filter).await?))
}

impl EventListParams {
    /// Checks every parameter, refusing them all at once with a 400 that names each bad one.
    fn into_filter(self) -> Result<EventFilter, ApiError> {
        let mut checker = Checker::new();
        let before = self.before.as_deref().and_then(|before| match before.parse::<i64>() {
            Ok(number) if number > 0 => Some(number),
            _ => {
                checker.push(
                    "before",
                    "must be a revision number: the `next_before` of a previous page",
                );
                None
            }
        });
        let limit = match self.limit.as_deref().map(str::parse::<u32>) {
            None => DEFAULT_PAGE_SIZE,
            Some(Ok(limit)) if (1..=MAX_PAGE_SIZE).contains(&limit) => limit,
            Some(_) => {
                checker.push("limit", format!("must be 1 to {MAX_PAGE_SIZE}"));
                DEFAULT_PAGE_SIZE
            }
        };
        let mut time = |name: &str, value: Option<&str>| {
            value.and_then(|value| match DateTime::parse_from_rfc3339(value) {
                Ok(time) => Some(time.with_timezone(&Utc)),
                Err(_) => {
                    checker.push(name, "must be an RFC 3339 time, e.g. `2025-01-31T12:00:00Z`");
                    None
                }
            })
        };
        let since = time("since", self.since.as_deref());
        let until = time("until", self.until.as_deref());
        if let (Some(since), Some(until)) = (since, until) {
            checker.ensure(until > since, "until", "must be after `since`");
        }
        checker.finish().map_err(bad_request)?;
        Ok(EventFilter {
            before,
            since,
            until,
            limit,
        })
    }
}

/// Parameters are not a body: a bad one is a 400, like the other extractors' refusals.
fn bad_request(errors: Vec<FieldError>) -> ApiError {
    let detail = errors
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::Rejected {
        status: StatusCode::BAD_REQUEST,
        detail,
        errors,
    }
}
