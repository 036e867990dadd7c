//! Routes between the hub and its gateways: the revision stream and the status reports (a
//! gateway token's), and the fleet view and gateway tokens (an admin's).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Viewer};
use super::extract::{JsonBody, PathParams};
use super::objects::page_filter;
use super::problem::ApiError;
use crate::distribution::stream;
use crate::domain::fleet::{self, GatewayStatus, StatusReport};
use crate::domain::objects;
use crate::error::HubError;
use crate::model::gateway_token::GatewayTokenView;
use crate::model::{Gateway, GatewayToken, Kind, ObjectRef, Page, Stored};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(gateway_stream))
        .routes(routes!(gateway_status))
        .routes(routes!(fleet_view))
        .routes(routes!(list_tokens, issue_token))
        .routes(routes!(revoke_token))
}

/// The revision stream a gateway keeps open (`text/event-stream`): an `snapshot` event with
/// the latest revision at once, unless `Last-Event-ID` names it, then one per publish.
#[utoipa::path(get, path = "/gateway/stream", operation_id = "gateway_stream", tag = "Gateways",
    responses((status = 200, description = "Server-sent events", content_type = "text/event-stream")))]
pub async fn gateway_stream(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = bearer(&headers)?.to_owned();
    let gateway = fleet::authenticate(&state.store, &token).await?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    tracing::info!(%gateway, ?last_event_id, "gateway connected");
    let events = stream::events(state.store.clone(), token, gateway, last_event_id, &state.revisions);
    Ok(Sse::new(events)
        .keep_alive(
            KeepAlive::new()
                .interval(std::time::Duration::from_secs(15))
                .text("keepalive"),
        )
        .into_response())
}

/// A gateway's report: what it enforces, its last error, its counters. Sent after each apply
/// and as a heartbeat.
#[utoipa::path(post, path = "/gateway/status", operation_id = "report_gateway_status", tag = "Gateways",
    request_body = StatusReport, responses((status = 204, description = "Recorded")))]
pub async fn gateway_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(report): JsonBody<StatusReport>,
) -> Result<StatusCode, ApiError> {
    let gateway = fleet::authenticate(&state.store, bearer(&headers)?).await?;
    fleet::report(&state.store, &gateway, report).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every registered gateway: online, stale or offline; its revision and whether it drifts.
#[utoipa::path(get, path = "/fleet", operation_id = "fleet", tag = "Gateways", responses((status = 200, body = Vec<GatewayStatus>)))]
pub async fn fleet_view(State(state): State<AppState>, _viewer: Viewer) -> Result<Json<Vec<GatewayStatus>>, ApiError> {
    Ok(Json(fleet::fleet(&state.store, chrono::Utc::now()).await?))
}

/// What an admin writes to issue a gateway token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueGatewayTokenRequest {
    pub name: String,
}

/// A newly issued gateway token; `secret` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedGatewayTokenResponse {
    pub token: Stored<GatewayTokenView>,
    pub secret: String,
}

/// Issues a token the gateway connects with (`gatehouse gateway --hub URL --token SECRET`).
#[utoipa::path(post, path = "/gateways/{name}/tokens", operation_id = "issue_gateway_token", tag = "Gateways",
    params(("name" = String, Path)), request_body = IssueGatewayTokenRequest,
    responses((status = 201, body = IssuedGatewayTokenResponse)))]
pub async fn issue_token(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams(gateway): PathParams<String>,
    JsonBody(request): JsonBody<IssueGatewayTokenRequest>,
) -> Result<(StatusCode, Json<IssuedGatewayTokenResponse>), ApiError> {
    let issued = fleet::issue_token(&state.store, &actor, &gateway, request.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedGatewayTokenResponse {
            token: issued.record.view(),
            secret: issued.secret,
        }),
    ))
}

/// A gateway's tokens (never their secrets).
#[utoipa::path(get, path = "/gateways/{name}/tokens", operation_id = "list_gateway_tokens", tag = "Gateways",
    params(("name" = String, Path)), responses((status = 200, body = Page<Stored<GatewayTokenView>>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams(gateway): PathParams<String>,
) -> Result<Json<Page<Stored<GatewayTokenView>>>, ApiError> {
    objects::get::<Gateway>(&state.store, &gateway).await?;
    let mut filter = page_filter(Some(500), None, None)?;
    filter.refers_to = Some(ObjectRef::new(Gateway::KIND, gateway));
    let page = objects::list::<GatewayToken>(&state.store, &filter).await?;
    Ok(Json(Page {
        items: page.items.iter().map(|record| record.view()).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Revokes a gateway token: its stream closes within seconds.
#[utoipa::path(delete, path = "/gateways/{name}/tokens/{id}", operation_id = "revoke_gateway_token", tag = "Gateways",
    params(("name" = String, Path), ("id" = String, Path)), responses((status = 204, description = "Revoked")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams((gateway, id)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let token = objects::get::<GatewayToken>(&state.store, &id).await?;
    if token.object.gateway != gateway {
        return Err(HubError::NotFound {
            kind: GatewayToken::LABEL,
            key: id,
        }
        .into());
    }
    objects::delete::<GatewayToken>(&state.store, &actor, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The gateway token of a request, from `Authorization: Bearer`.
pub(super) fn bearer(headers: &HeaderMap) -> Result<&str, HubError> {
    let missing = || HubError::Unauthenticated {
        detail: "send the gateway token as `Authorization: Bearer <token>`".into(),
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(missing)?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok(token.trim())
    } else {
        Err(missing())
    }
}
