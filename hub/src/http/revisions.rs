//! Revision routes: read-only, since revisions are immutable. Publishing arrives with the
//! control loop.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Viewer;
use super::extract::{PathParams, QueryParams};
use super::objects::page_filter;
use super::problem::ApiError;
use crate::domain::revisions;
use crate::model::{Page, Revision};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(get))
}

/// Paging for revisions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevisionListParams {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists revisions, newest first.
#[utoipa::path(get, path = "/revisions", operation_id = "list_revisions", tag = "Revisions",
    params(RevisionListParams), responses((status = 200, body = Page<Revision>)))]
pub async fn list(
    State(state): State<AppState>,
    _viewer: Viewer,
    QueryParams(params): QueryParams<RevisionListParams>,
) -> Result<Json<Page<Revision>>, ApiError> {
    let limit = page_filter(params.limit, None, None)?.limit;
    let before = match params.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| {
            ApiError::rejected(
                StatusCode::BAD_REQUEST,
                Some("cursor".into()),
                "must be a `next_cursor` from a previous page",
            )
        })?),
    };
    Ok(Json(revisions::list(&state.store, before, limit).await?))
}

/// Reads one revision.
#[utoipa::path(get, path = "/revisions/{number}", operation_id = "get_revision", tag = "Revisions",
    params(("number" = i64, Path)), responses((status = 200, body = Revision)))]
pub async fn get(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams(number): PathParams<i64>,
) -> Result<Json<Revision>, ApiError> {
    Ok(Json(revisions::get(&state.store, number).await?))
}
