//! Routes for API versions, nested under their API: `/apis/{api}/versions/{version}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Viewer};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::objects::{DeleteParams, page_filter};
use super::problem::ApiError;
use crate::domain::objects;
use crate::model::api_version::ApiVersionSpec;
use crate::model::{Api, ApiVersion, Kind, ObjectRef, Page, Stored, VersionStatus};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, replace, delete))
}

/// Filters for listing an API's versions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionListParams {
    /// Case-insensitive text in the name or description.
    pub q: Option<String>,
    /// Only versions with this status.
    pub status: Option<VersionStatus>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists an API's versions.
#[utoipa::path(get, path = "/apis/{api}/versions", operation_id = "list_api_versions", tag = "APIs",
    params(("api" = String, Path), VersionListParams), responses((status = 200, body = Page<Stored<ApiVersion>>)))]
pub async fn list(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams(api): PathParams<String>,
    QueryParams(params): QueryParams<VersionListParams>,
) -> Result<Json<Page<Stored<ApiVersion>>>, ApiError> {
    objects::get::<Api>(&state.store, &api).await?;
    let mut filter = page_filter(params.limit, params.cursor, params.q)?;
    filter.refers_to = Some(ObjectRef::new(Api::KIND, api));
    filter
        .labels
        .extend(params.status.map(|status| format!("status:{}", status.as_str())));
    let page = objects::list::<ApiVersion>(&state.store, &filter).await?;
    let items = page.items.iter().map(|record| record.view()).collect();
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Adds a version to an API.
#[utoipa::path(post, path = "/apis/{api}/versions", operation_id = "create_api_version", tag = "APIs",
    params(("api" = String, Path)), request_body = ApiVersionSpec,
    responses((status = 201, body = Stored<ApiVersion>)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams(api): PathParams<String>,
    JsonBody(spec): JsonBody<ApiVersionSpec>,
) -> Result<(StatusCode, Json<Stored<ApiVersion>>), ApiError> {
    objects::get::<Api>(&state.store, &api).await?;
    let record = objects::create::<ApiVersion>(&state.store, &actor, ApiVersion { api, spec }).await?;
    Ok((StatusCode::CREATED, Json(record.view())))
}

/// Reads one version.
#[utoipa::path(get, path = "/apis/{api}/versions/{version}", operation_id = "get_api_version", tag = "APIs",
    params(("api" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = Stored<ApiVersion>)))]
pub async fn get(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams((api, version)): PathParams<(String, String)>,
) -> Result<Json<Stored<ApiVersion>>, ApiError> {
    let key = ApiVersion::key_of(&api, &version);
    Ok(Json(objects::get::<ApiVersion>(&state.store, &key).await?.view()))
}

/// Replaces one version; its name cannot change.
#[utoipa::path(put, path = "/apis/{api}/versions/{version}", operation_id = "replace_api_version", tag = "APIs",
    params(("api" = String, Path), ("version" = String, Path)), request_body = ApiVersionSpec,
    responses((status = 200, body = Stored<ApiVersion>)))]
pub async fn replace(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams((api, version)): PathParams<(String, String)>,
    JsonBody(spec): JsonBody<ApiVersionSpec>,
) -> Result<Json<Stored<ApiVersion>>, ApiError> {
    let key = ApiVersion::key_of(&api, &version);
    let record = objects::replace::<ApiVersion>(&state.store, &actor, &key, ApiVersion { api, spec }).await?;
    Ok(Json(record.view()))
}

/// Deletes one version. Refused while an access policy names it, unless `cascade` is set.
#[utoipa::path(delete, path = "/apis/{api}/versions/{version}", operation_id = "delete_api_version", tag = "APIs",
    params(("api" = String, Path), ("version" = String, Path), DeleteParams),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams((api, version)): PathParams<(String, String)>,
    QueryParams(params): QueryParams<DeleteParams>,
) -> Result<StatusCode, ApiError> {
    let key = ApiVersion::key_of(&api, &version);
    objects::delete::<ApiVersion>(&state.store, &actor, &key, params.cascade).await?;
    Ok(StatusCode::NO_CONTENT)
}
