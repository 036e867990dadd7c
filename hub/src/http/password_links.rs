//! Routes for password links: an admin invites a user, or resets their password, by issuing a
//! one-time link the user opens in the portal. The token appears once, in the response.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::extract::{JsonBody, PathParams};
use super::problem::ApiError;
use crate::domain::sign_in::{self, LinkPurpose};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue))
}

/// What an admin writes to issue a password link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueLinkRequest {
    pub purpose: LinkPurpose,
}

/// A new password link. Open `path` on the developer portal; it works once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedLinkResponse {
    pub user: String,
    pub purpose: LinkPurpose,
    #[schema(example = "/password/ghpl_Xa81Qe...")]
    pub path: String,
    pub expires_at: DateTime<Utc>,
}

/// Issues a one-time link that sets the user's password (an invitation or a reset); earlier
/// unused links of the user stop working.
#[utoipa::path(post, path = "/users/{name}/password-links", operation_id = "issue_password_link", tag = "Users and groups",
    params(("name" = String, Path)), request_body = IssueLinkRequest,
    responses((status = 201, body = IssuedLinkResponse)))]
pub async fn issue(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams(user): PathParams<String>,
    JsonBody(request): JsonBody<IssueLinkRequest>,
) -> Result<(StatusCode, Json<IssuedLinkResponse>), ApiError> {
    let issued = sign_in::issue_password_link(&state.store, &actor, &user, request.purpose).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedLinkResponse {
            user: issued.user,
            purpose: issued.purpose,
            path: format!("/password/{}", issued.token),
            expires_at: issued.expires_at,
        }),
    ))
}
