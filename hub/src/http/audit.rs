//! The audit log route: every change, newest first, filterable.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Viewer;
use super::extract::QueryParams;
use super::objects::{numeric_cursor, page_filter};
use super::problem::ApiError;
use crate::domain::audit;
use crate::model::{AuditAction, AuditEntry, Page};
use crate::store::AuditFilter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Filters for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListParams {
    /// Only changes by this actor (a user name or `token:<name>`).
    pub actor: Option<String>,
    /// Only changes to this kind of object (`api`, `access_policy`, …).
    pub kind: Option<String>,
    /// Only changes to the object with this key.
    pub key: Option<String>,
    pub action: Option<AuditAction>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists changes, newest first.
#[utoipa::path(get, path = "/audit", operation_id = "list_audit_entries", tag = "Audit log",
    params(AuditListParams), responses((status = 200, body = Page<AuditEntry>)))]
pub async fn list(
    State(state): State<AppState>,
    _viewer: Viewer,
    QueryParams(params): QueryParams<AuditListParams>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let limit = page_filter(params.limit, None, None)?.limit;
    let before_id = numeric_cursor(params.cursor.as_deref())?;
    let filter = AuditFilter {
        actor: params.actor,
        kind: params.kind,
        key: params.key,
        action: params.action,
        before_id,
        limit,
    };
    Ok(Json(audit::list(&state.store, &filter).await?))
}
