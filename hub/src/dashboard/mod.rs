//! The admin dashboard under `/dashboard`: server-rendered pages over the same domain layer as
//! the REST API (one implementation of each rule), in the portal's design system. Anyone with
//! the `viewer` role sees every page; only `admin` sees the buttons, and only `admin` may post.

pub mod chart;
mod error;
mod form;
mod pages;
mod session;

use axum::Router;
use axum::routing::get;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use error::DashboardError;
pub use session::SignedIn;

use crate::http::AppState;
use crate::web::{self, cookies::SecureCookies, session_store::HubSessionStore};

/// The dashboard's session cookie (the portal's is `gatehouse_portal`).
pub const SESSION_COOKIE: &str = "gatehouse_dashboard";

/// Where the dashboard lives on the hub's port.
pub const BASE: &str = "/dashboard";

/// The dashboard's routes, with their session layer and security headers.
pub fn router(state: AppState) -> Router<AppState> {
    let sessions = SessionManagerLayer::new(HubSessionStore::new(state.store.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        // Strict: no page of the dashboard is ever the target of a cross-site navigation that
        // needs the session (no identity-provider callback here).
        .with_same_site(SameSite::Strict)
        .with_secure(false)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)))
        .with_always_save(true);
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to(BASE) }))
        .merge(pages::routes())
        .route(
            web::STYLESHEET_PATH,
            get(|| async { web::asset(web::STYLESHEET, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/hub/dashboard.css",
            get(|| async {
                web::asset(
                    include_bytes!("../../../static/hub/dashboard.css"),
                    "text/css; charset=utf-8",
                )
            }),
        )
        .layer(sessions)
        .layer(axum::middleware::from_fn(|request, next| {
            web::cookies::secure_when_https(SecureCookies::Auto, false, request, next)
        }))
        .layer(axum::middleware::from_fn(web::security_headers))
}
