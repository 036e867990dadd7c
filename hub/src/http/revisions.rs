//! Revision routes: publish, list, read, compare and roll back. Revisions themselves are
//! immutable; a rollback publishes an earlier one's content as a new revision.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Viewer};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::objects::{numeric_cursor, page_filter};
use super::problem::ApiError;
use crate::compiler::diff::Change;
use crate::domain::publish::{self, Published};
use crate::domain::revisions;
use crate::model::{Page, Revision};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, publish))
        .routes(routes!(get))
        .routes(routes!(snapshot))
        .routes(routes!(diff))
        .routes(routes!(rollback))
}

/// What a publish records.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Why: shown in the revision list and the audit trail.
    #[serde(default)]
    pub message: String,
    /// The source commit the state came from, when it came from a repository.
    #[serde(default)]
    pub source_commit: Option<String>,
}

/// Publishes the current state as a new revision (201), or returns the latest revision when
/// nothing changed (200). A state a gateway could not enforce is refused (422) naming the objects.
#[utoipa::path(post, path = "/revisions", operation_id = "publish", tag = "Revisions", request_body = PublishRequest,
    responses((status = 201, body = Published), (status = 200, body = Published)))]
pub async fn publish(
    State(state): State<AppState>,
    Admin(actor): Admin,
    JsonBody(request): JsonBody<PublishRequest>,
) -> Result<(StatusCode, Json<Published>), ApiError> {
    let published = publish::publish(&state.store, &actor, &request.message, request.source_commit.as_deref()).await?;
    state.revisions.notify(&published);
    Ok((
        if published.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(published),
    ))
}

/// What a rollback records.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    #[serde(default)]
    pub message: String,
}

/// Publishes revision `number`'s content again as a new revision.
#[utoipa::path(post, path = "/revisions/{number}/rollback", operation_id = "rollback", tag = "Revisions",
    params(("number" = i64, Path)), request_body = RollbackRequest,
    responses((status = 201, body = Published), (status = 200, body = Published)))]
pub async fn rollback(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams(number): PathParams<i64>,
    JsonBody(request): JsonBody<RollbackRequest>,
) -> Result<(StatusCode, Json<Published>), ApiError> {
    let published = publish::rollback(&state.store, &actor, number, &request.message).await?;
    state.revisions.notify(&published);
    Ok((
        if published.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(published),
    ))
}

/// The snapshot a revision holds, as the gateways enforce it (API key hashes left out).
#[utoipa::path(get, path = "/revisions/{number}/snapshot", operation_id = "get_revision_snapshot", tag = "Revisions",
    params(("number" = i64, Path)), responses((status = 200, body = Object)))]
pub async fn snapshot(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams(number): PathParams<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let snapshot = publish::snapshot(&state.store, number).await?;
    let mut document = serde_json::to_value(&snapshot).unwrap_or_default();
    if let Some(consumers) = document
        .get_mut("consumers")
        .and_then(|consumers| consumers.as_array_mut())
    {
        for consumer in consumers.iter_mut().filter_map(|consumer| consumer.as_object_mut()) {
            consumer.remove("key_hash");
        }
    }
    gateway::upstream::tls::redact_document(&mut document);
    // The TLS listener's keys go to gateways only, never back out of the admin API.
    gateway::tls::redact_keys(&mut document);
    Ok(Json(document))
}

/// The two revisions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    pub from: i64,
    pub to: i64,
}

/// What changed from one revision to another, object by object.
#[utoipa::path(get, path = "/revisions/diff", operation_id = "diff_revisions", tag = "Revisions", params(DiffParams),
    responses((status = 200, body = Vec<Change>)))]
pub async fn diff(
    State(state): State<AppState>,
    _viewer: Viewer,
    QueryParams(params): QueryParams<DiffParams>,
) -> Result<Json<Vec<Change>>, ApiError> {
    Ok(Json(publish::diff(&state.store, params.from, params.to).await?))
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
    let before = numeric_cursor(params.cursor.as_deref())?;
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
