//! The developer portal: sign-in (built-in accounts or OpenID Connect), the catalog of the APIs
//! a user may call, API pages from their OpenAPI documents, try-it through the gateway, and the
//! user's applications and API keys. Server-rendered with askama; it uses the hub's model and
//! store, and the gateway crate only for the snapshot contract and its access rule.

pub mod applications;
pub mod catalog;
pub mod config;
pub mod csrf;
mod error;
pub mod oidc;
pub mod openapi;
mod pages;
pub mod session;
pub mod settings;
pub mod try_it;
pub mod usage;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use hub::distribution::RevisionFeed;
use hub::store::Store;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use config::PortalConfig;
pub use error::PortalError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gatehouse_portal";

/// What every handler can reach.
#[derive(Clone)]
pub struct PortalState {
    pub store: Store,
    pub config: Arc<PortalConfig>,
    /// Wakes the gateways when a key change is published.
    pub revisions: RevisionFeed,
    pub catalog: Arc<catalog::SnapshotCache>,
    pub providers: Arc<oidc::Providers>,
    pub try_it: try_it::Forwarder,
    pub usage: usage::UsageReader,
}

impl PortalState {
    /// Builds the state; discovers each OpenID Connect provider (one that does not answer is
    /// left off the sign-in page and retried at its next use).
    pub async fn new(store: Store, config: PortalConfig, revisions: RevisionFeed) -> Result<Self, PortalError> {
        let providers = oidc::Providers::discover(&config).await;
        let try_it = try_it::Forwarder::new(&config.gateway_url)?;
        let usage = usage::UsageReader::new(config.gateway_admin_url.as_deref())?;
        Ok(PortalState {
            store,
            config: Arc::new(config),
            revisions,
            catalog: Arc::default(),
            providers: Arc::new(providers),
            try_it,
            usage,
        })
    }
}

/// Builds the portal's HTTP application; `main` and the tests share it.
pub fn app(state: PortalState) -> Router {
    let sessions = SessionManagerLayer::new(hub::web::session_store::HubSessionStore::new(state.store.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        // Lax, not Strict: the OpenID Connect callback is a cross-site top-level GET that must
        // carry the session holding the state, nonce and PKCE verifier.
        .with_same_site(SameSite::Lax)
        // Secure is decided per request (`hub::web::cookies::secure_when_https`).
        .with_secure(false)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)))
        .with_always_save(true);
    let max_body_bytes = state.config.max_body_bytes;
    let secure = state.config.secure_cookies;
    let https_public_url = state.config.effective_public_url().starts_with("https://");
    Router::new()
        .route("/", get(pages::sign_in::home))
        .route("/sign-in", get(pages::sign_in::page).post(pages::sign_in::submit))
        .route("/sign-out", post(pages::sign_in::sign_out))
        .route(
            "/sign-up",
            get(pages::sign_in::sign_up_page).post(pages::sign_in::sign_up),
        )
        .route(
            "/password/{token}",
            get(pages::sign_in::password_page).post(pages::sign_in::set_password),
        )
        .route("/sign-in/oidc/{provider}", get(oidc::start))
        .route("/sign-in/oidc/{provider}/callback", get(oidc::callback))
        .route("/apis", get(pages::catalog::page))
        .route("/apis/{api}", get(pages::catalog::api_page))
        .route("/apis/{api}/try", post(try_it::handle))
        .route(
            "/applications",
            get(pages::applications::list).post(pages::applications::create),
        )
        .route("/applications/{id}", get(pages::applications::show))
        .route("/applications/{id}/keys", post(pages::applications::issue_key))
        .route(
            "/applications/{id}/keys/{key}/revoke",
            post(pages::applications::revoke_key),
        )
        .route(
            "/applications/{id}/keys/{key}/rotate",
            post(pages::applications::rotate_key),
        )
        .route("/healthz", get(|| async { "ok" }))
        .merge(pages::assets())
        .fallback(error::not_found)
        .with_state(state)
        .layer(sessions)
        .layer(axum::middleware::from_fn(move |request, next| {
            hub::web::cookies::secure_when_https(secure, https_public_url, request, next)
        }))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(hub::web::security_headers))
}

/// Binds the portal's address.
pub async fn bind(config: &PortalConfig) -> std::io::Result<TcpListener> {
    TcpListener::bind(config.listen).await
}

/// Serves the portal until `shutdown` completes; expired sessions are swept every ten minutes.
pub async fn serve(
    listener: TcpListener,
    state: PortalState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = hub::web::session_store::HubSessionStore::new(state.store.clone());
    let sweep = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(error) = sweeper.delete_expired().await {
                tracing::warn!(%error, "could not delete expired portal sessions");
            }
        }
    });
    let served = axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await;
    sweep.abort();
    served
}
