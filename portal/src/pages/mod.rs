//! Pages: askama templates rendered by thin handlers (parse, call the domain, render), the
//! embedded static files, and the security headers every response carries.

pub mod applications;
pub mod catalog;
mod lifecycle;
pub mod sign_in;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use hub::web::asset;

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

/// Renders a template as an HTML response.
pub fn render<T: Template>(template: &T) -> Response {
    hub::web::render(template)
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
    let title = hub::web::status_title(status);
    render(&ErrorPage {
        nav: None,
        title,
        message,
    })
}

/// The shared stylesheet and files from `static/portal`, embedded in the binary so nothing loads from outside.
pub fn assets() -> Router<PortalState> {
    Router::new()
        .route(
            hub::web::STYLESHEET_PATH,
            get(|| async { asset(hub::web::STYLESHEET, "text/css; charset=utf-8") }),
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
