//! Configuration as code over the admin API: `GET /manifests` exports the hub's state as
//! manifest files, `POST /manifests/apply` makes the hub match a set (the `gatehouse export`
//! and `gatehouse apply` commands are clients of these).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Viewer};
use super::extract::JsonBody;
use super::problem::ApiError;
use crate::domain::manifests::{self, Applied, ApplyOptions};
use crate::manifest::SourceFile;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export)).routes(routes!(apply))
}

/// A manifest set: every file, by its path relative to the set's root.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ManifestFiles {
    pub files: Vec<SourceFile>,
}

/// The hub's APIs (with their versions), groups, plans and access policies as manifest files.
#[utoipa::path(get, path = "/manifests", operation_id = "export_manifests", tag = "Manifests",
    responses((status = 200, body = ManifestFiles)))]
pub async fn export(State(state): State<AppState>, Viewer(_viewer): Viewer) -> Result<Json<ManifestFiles>, ApiError> {
    Ok(Json(ManifestFiles {
        files: manifests::export(&state.store).await?,
    }))
}

/// What to apply, and how.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// The manifests and the OpenAPI documents they name by path.
    pub files: Vec<SourceFile>,
    /// Delete what the hub holds and the manifests do not.
    #[serde(default)]
    pub prune: bool,
    /// Return the plan and change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Publish the result as a revision in the same step.
    #[serde(default)]
    pub publish: bool,
    /// The publish message.
    #[serde(default)]
    pub message: Option<String>,
    /// The source commit the manifests came from, recorded on the revision.
    #[serde(default)]
    pub commit: Option<String>,
}

/// Makes the hub match the manifests, in one transaction: the plan of steps, applied unless a
/// dry run. A set with any problem is refused (422) with each problem at its file, line and
/// column, and nothing changes.
#[utoipa::path(post, path = "/manifests/apply", operation_id = "apply_manifests", tag = "Manifests",
    request_body = ApplyRequest, responses((status = 200, body = Applied)))]
pub async fn apply(
    State(state): State<AppState>,
    Admin(actor): Admin,
    JsonBody(request): JsonBody<ApplyRequest>,
) -> Result<Json<Applied>, ApiError> {
    let options = ApplyOptions {
        prune: request.prune,
        dry_run: request.dry_run,
        publish: request.publish,
        message: request.message,
        commit: request.commit,
    };
    let applied = manifests::apply(&state.store, &actor, request.files, &options).await?;
    if let Some(published) = &applied.published {
        state.revisions.notify(published);
    }
    Ok(Json(applied))
}
