//! Reading shadow mode through the admin API: who each shadowed access policy and plan would
//! have refused in the last hour (`GET /api/v1/usage/shadow-refusals`), what
//! `gatehouse impact --hub` says of a change that enforces one. The dashboard reads the same
//! through `domain::shadow`.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Viewer;
use super::problem::ApiError;
use crate::domain::shadow::{self, WouldHaveRefused};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(shadow_refusals))
}

/// Who shadowed rules would have refused lately.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowRefusalsAnswer {
    /// How far back, in minutes: 60.
    pub minutes: i64,
    /// Each shadowed rule that would have refused someone, by kind then name; users most first.
    pub rules: Vec<WouldHaveRefused>,
    /// The same in words, one sentence per rule (`plan `standard` would have refused alice 15
    /// times in the last hour`).
    pub sentences: Vec<String>,
}

/// Lists, for every shadowed access policy and plan, whom it would have refused in the last
/// hour and how often, as the gateways' usage reports tell.
#[utoipa::path(get, path = "/usage/shadow-refusals", operation_id = "list_shadow_refusals", tag = "Gateways",
    responses((status = 200, body = ShadowRefusalsAnswer)))]
pub async fn shadow_refusals(
    State(state): State<AppState>,
    _viewer: Viewer,
) -> Result<Json<ShadowRefusalsAnswer>, ApiError> {
    let rules = shadow::recent_list(&state.store, Utc::now()).await?;
    let sentences = rules
        .iter()
        .map(|rule| format!("{} `{}` {}", rule.rule_kind, rule.rule, shadow::sentence(&rule.users)))
        .collect();
    Ok(Json(ShadowRefusalsAnswer {
        minutes: shadow::RECENT_MINUTES,
        rules,
        sentences,
    }))
}
