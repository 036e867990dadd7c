//! The admin REST API under `/api/v1`, its OpenAPI document and reference page, the health
//! probes, and the dashboard (`crate::dashboard`) beside them. Handlers are thin: extract, call one domain function, render.

mod admin_tokens;
mod api_keys;
mod api_versions;
mod audit;
pub mod auth;
mod auto_publish;
mod certificates;
mod client_certificates;
mod events;
pub mod extract;
mod fleet;
mod health;
mod manifests;
pub mod objects;
pub mod openapi;
mod password_links;
pub mod problem;
mod resources;
mod revisions;
mod shadow;
pub mod usage;
mod usage_report;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::store::Store;
use problem::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Wakes gateway streams when a revision is published.
    pub revisions: crate::distribution::RevisionFeed,
    /// Publish after every successful change through the admin API.
    pub auto_publish: bool,
}

/// The header that carries each request's id, set when the client sent none.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Builds the hub's HTTP application; `main` and the tests share it.
pub fn app(state: AppState) -> Router {
    let admin_api = OpenApiRouter::new()
        .merge(resources::router())
        .merge(certificates::router())
        .merge(client_certificates::router())
        .merge(api_versions::router())
        .merge(api_keys::router())
        .merge(admin_tokens::router())
        .merge(password_links::router())
        .merge(audit::router())
        .merge(revisions::router())
        .merge(events::router())
        .merge(fleet::router())
        .merge(usage::router())
        .merge(usage_report::router())
        .merge(shadow::router())
        .merge(manifests::router());
    let (router, document) = OpenApiRouter::with_openapi(openapi::base())
        .nest("/api/v1", admin_api)
        .merge(health::router())
        .split_for_parts();
    let document = Arc::new(openapi::finish(document));
    let max_body_bytes = state.max_body_bytes;
    let request_id = axum::http::HeaderName::from_static(REQUEST_ID_HEADER);
    router
        .route(
            "/api/v1/openapi.json",
            get(move || async move { axum::Json(document.as_ref().clone()) }),
        )
        .route("/api/v1/reference", get(openapi::reference_page))
        .merge(assets())
        .merge(crate::dashboard::router(state.clone()))
        .fallback(|| async { ApiError::rejected(StatusCode::NOT_FOUND, None, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::rejected(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                "this route does not take that method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auto_publish::auto_publish,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Files from `static/`, embedded in the binary so nothing loads from outside.
fn assets() -> Router<AppState> {
    Router::new()
        .route(
            "/static/vendor/swagger-ui/swagger-ui-bundle.js",
            get(|| async {
                openapi::asset(
                    include_bytes!("../../../static/vendor/swagger-ui/swagger-ui-bundle.js"),
                    "text/javascript; charset=utf-8",
                )
            }),
        )
        .route(
            "/static/vendor/swagger-ui/swagger-ui.css",
            get(|| async {
                openapi::asset(
                    include_bytes!("../../../static/vendor/swagger-ui/swagger-ui.css"),
                    "text/css; charset=utf-8",
                )
            }),
        )
        .route(
            "/static/hub/api-reference.js",
            get(|| async {
                openapi::asset(
                    include_bytes!("../../../static/hub/api-reference.js"),
                    "text/javascript; charset=utf-8",
                )
            }),
        )
}
