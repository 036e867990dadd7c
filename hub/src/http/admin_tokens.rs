//! Routes for admin API tokens. A token's secret appears once, in the response that issues it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Viewer};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::problem::ApiError;
use super::resources::TextListParams;
use crate::domain::{admin_tokens, objects};
use crate::model::admin_token::AdminTokenView;
use crate::model::{AdminToken, Page, Role, Stored};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, issue))
        .routes(routes!(get, delete))
}

/// What an admin writes to issue a token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueTokenRequest {
    /// A label to recognise the token by (`ci`, `terraform`).
    pub name: String,
    /// `admin` or `viewer`.
    pub role: Role,
    /// When the token stops working; absent for never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A newly issued token. `secret` is shown this once and cannot be read again.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenResponse {
    pub token: Stored<AdminTokenView>,
    pub secret: String,
}

/// Lists admin tokens (never their secrets).
#[utoipa::path(get, path = "/admin-tokens", operation_id = "list_admin_tokens", tag = "Admin tokens",
    params(TextListParams), responses((status = 200, body = Page<Stored<AdminTokenView>>)))]
pub async fn list(
    State(state): State<AppState>,
    _viewer: Viewer,
    QueryParams(params): QueryParams<TextListParams>,
) -> Result<Json<Page<Stored<AdminTokenView>>>, ApiError> {
    let page = objects::list::<AdminToken>(&state.store, &params.into_filter()?).await?;
    let items = page.items.iter().map(|record| record.view()).collect();
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Issues a token; the response holds the secret, once.
#[utoipa::path(post, path = "/admin-tokens", operation_id = "issue_admin_token", tag = "Admin tokens",
    request_body = IssueTokenRequest, responses((status = 201, body = IssuedTokenResponse)))]
pub async fn issue(
    State(state): State<AppState>,
    Admin(actor): Admin,
    JsonBody(request): JsonBody<IssueTokenRequest>,
) -> Result<(StatusCode, Json<IssuedTokenResponse>), ApiError> {
    let issued = admin_tokens::issue(&state.store, &actor, request.name, request.role, request.expires_at).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedTokenResponse {
            token: issued.record.view(),
            secret: issued.secret,
        }),
    ))
}

/// Reads one token (never its secret).
#[utoipa::path(get, path = "/admin-tokens/{id}", operation_id = "get_admin_token", tag = "Admin tokens",
    params(("id" = String, Path)), responses((status = 200, body = Stored<AdminTokenView>)))]
pub async fn get(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams(id): PathParams<String>,
) -> Result<Json<Stored<AdminTokenView>>, ApiError> {
    Ok(Json(objects::get::<AdminToken>(&state.store, &id).await?.view()))
}

/// Revokes a token by deleting it; it stops working at once.
#[utoipa::path(delete, path = "/admin-tokens/{id}", operation_id = "delete_admin_token", tag = "Admin tokens",
    params(("id" = String, Path)), responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    objects::delete::<AdminToken>(&state.store, &actor, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
