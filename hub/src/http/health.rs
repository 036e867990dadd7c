//! Liveness and readiness, for load balancers and orchestrators. No authentication.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::problem::ApiError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

/// The answer of a health probe.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", operation_id = "get_health", tag = "Health",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// The store answers and every migration is applied.
#[utoipa::path(get, path = "/readyz", operation_id = "get_readiness", tag = "Health",
    responses(
        (status = 200, body = Health),
        (status = 503, body = super::problem::Problem, content_type = "application/problem+json")
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let unavailable = |detail: String| ApiError::rejected(StatusCode::SERVICE_UNAVAILABLE, None, detail);
    match state.store.is_ready().await {
        Ok(true) => Ok(Json(Health { status: "ready".into() })),
        Ok(false) => Err(unavailable("the store's migrations are not applied".into())),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            Err(unavailable("the store does not answer".into()))
        }
    }
}
