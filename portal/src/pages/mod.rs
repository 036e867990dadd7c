//! Pages: askama templates rendered by thin handlers (parse, call the domain, render), the
//! embedded static files, and the security headers every response carries.

pub mod applications;
pub mod catalog;
pub mod sign_in;

use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::PortalState;

/// The header bar of a signed-in page.
pub struct Nav {
    pub user: String,
    pub csrf: String,
    /// Which entry is the current page: `apis` or `applications`.
    pub current: &'static str,
}

impl Nav {
    pub fn of(signed_in: &crate::session::SignedIn, current: &'static str) -> Option<Nav> {
        let user = &signed_in.user;
        let shown = if user.display_name.is_empty() {
            &user.name
        } else {
            &user.display_name
        };
        Some(Nav {
            user: shown.clone(),
            csrf: signed_in.csrf.clone(),
            current,
        })
    }
}

/// Renders a template as an HTML response; a template that fails to render is a bug, logged.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a portal template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage<'a> {
    nav: Option<Nav>,
    title: &'a str,
    message: &'a str,
}

/// The page for an error: its status's reason as the title, the message under it.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::BAD_REQUEST => "Cannot do that",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        StatusCode::UNAUTHORIZED => "Sign-in refused",
        _ => "Something went wrong",
    };
    render(&ErrorPage {
        nav: None,
        title,
        message,
    })
}

fn asset(bytes: &'static [u8], content_type: &'static str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// Files from `static/portal`, embedded in the binary so nothing loads from outside.
pub fn assets() -> Router<PortalState> {
    Router::new()
        .route(
            "/static/portal/portal.css",
            get(|| async {
                asset(
                    include_bytes!("../../../static/portal/portal.css"),
                    "text/css; charset=utf-8",
                )
            }),
        )
        .route(
            "/static/portal/try-it.js",
            get(|| async {
                asset(
                    include_bytes!("../../../static/portal/try-it.js"),
                    "text/javascript; charset=utf-8",
                )
            }),
        )
}

/// Headers for every response: no framing by other sites, no sniffing, no referrer leaking
/// paths, and a content security policy that allows only the portal's own files (the script
/// calls only the portal, which alone talks to the gateway).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
