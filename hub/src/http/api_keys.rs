//! Routes for API keys, nested under their application. A key's secret appears once, in the
//! response that issues it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Viewer};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::objects::page_filter;
use super::problem::ApiError;
use crate::domain::{api_keys, objects};
use crate::model::api_key::ApiKeyView;
use crate::model::{ApiKey, Application, Kind, ObjectRef, Page, Stored};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, issue))
        .routes(routes!(get, delete))
        .routes(routes!(revoke))
}

/// What an admin writes to issue a key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueKeyRequest {
    /// A label to recognise the key by (`ci`, `laptop`).
    pub name: String,
    /// When the key stops working; absent for never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A newly issued key. `secret` is shown this once and cannot be read again.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKeyResponse {
    pub key: Stored<ApiKeyView>,
    #[schema(example = "ghk_Xa81Qe...")]
    pub secret: String,
}

/// Filters for listing an application's keys.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyListParams {
    /// Only revoked (`true`) or active (`false`) keys.
    pub revoked: Option<bool>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists an application's keys (never their secrets).
#[utoipa::path(get, path = "/applications/{id}/keys", operation_id = "list_api_keys", tag = "Applications and keys",
    params(("id" = String, Path), KeyListParams), responses((status = 200, body = Page<Stored<ApiKeyView>>)))]
pub async fn list(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams(application): PathParams<String>,
    QueryParams(params): QueryParams<KeyListParams>,
) -> Result<Json<Page<Stored<ApiKeyView>>>, ApiError> {
    objects::get::<Application>(&state.store, &application).await?;
    let mut filter = page_filter(params.limit, params.cursor, None)?;
    filter.refers_to = Some(ObjectRef::new(Application::KIND, application));
    filter
        .labels
        .extend(params.revoked.map(|revoked| format!("revoked:{revoked}")));
    let page = objects::list::<ApiKey>(&state.store, &filter).await?;
    let items = page.items.iter().map(|record| record.view()).collect();
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Issues a key for an application; the response holds the secret, once.
#[utoipa::path(post, path = "/applications/{id}/keys", operation_id = "issue_api_key",
    tag = "Applications and keys", params(("id" = String, Path)), request_body = IssueKeyRequest,
    responses((status = 201, body = IssuedKeyResponse)))]
pub async fn issue(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams(application): PathParams<String>,
    JsonBody(request): JsonBody<IssueKeyRequest>,
) -> Result<(StatusCode, Json<IssuedKeyResponse>), ApiError> {
    let issued = api_keys::issue(&state.store, &actor, &application, request.name, request.expires_at).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedKeyResponse {
            key: issued.record.view(),
            secret: issued.secret,
        }),
    ))
}

/// Reads one key (never its secret).
#[utoipa::path(get, path = "/applications/{id}/keys/{key_id}", operation_id = "get_api_key",
    tag = "Applications and keys", params(("id" = String, Path), ("key_id" = String, Path)),
    responses((status = 200, body = Stored<ApiKeyView>)))]
pub async fn get(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams((application, key_id)): PathParams<(String, String)>,
) -> Result<Json<Stored<ApiKeyView>>, ApiError> {
    Ok(Json(api_keys::get(&state.store, &application, &key_id).await?.view()))
}

/// Revokes a key: it stays listed, and stops working at the next publish.
#[utoipa::path(post, path = "/applications/{id}/keys/{key_id}/revoke", operation_id = "revoke_api_key",
    tag = "Applications and keys", params(("id" = String, Path), ("key_id" = String, Path)),
    responses((status = 200, body = Stored<ApiKeyView>)))]
pub async fn revoke(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams((application, key_id)): PathParams<(String, String)>,
) -> Result<Json<Stored<ApiKeyView>>, ApiError> {
    Ok(Json(
        api_keys::revoke(&state.store, &actor, &application, &key_id)
            .await?
            .view(),
    ))
}

/// Deletes a key.
#[utoipa::path(delete, path = "/applications/{id}/keys/{key_id}", operation_id = "delete_api_key",
    tag = "Applications and keys", params(("id" = String, Path), ("key_id" = String, Path)),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams((application, key_id)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    api_keys::delete(&state.store, &actor, &application, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
