//! The dashboard's pages: thin handlers (parse, call the domain, render) over askama templates.

pub mod access;
pub mod analytics;
pub mod apis;
pub mod audit;
pub mod certificates;
pub mod edge_form;
pub mod gateways;
pub mod groups;
pub mod keys;
mod lifecycle_form;
mod shadow_form;
pub use shadow_form::shadow_mode;
pub mod overview;
pub mod plans;
pub mod policies;
pub mod revisions;
pub mod sign_in;
pub mod upstream_tls_form;
pub mod users;
pub mod versions;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::session::SignedIn;
use crate::http::AppState;
use crate::web::render;

/// Every page's route, under `/dashboard`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(overview::page))
        .route("/dashboard/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/dashboard/sign-out", post(sign_in::sign_out))
        .route("/dashboard/apis", get(apis::list).post(apis::create))
        .route("/dashboard/apis/new", get(apis::new))
        .route("/dashboard/apis/{api}", get(apis::show).post(apis::update))
        .route("/dashboard/apis/{api}/edit", get(apis::edit))
        .route("/dashboard/apis/{api}/delete", post(apis::delete))
        .route("/dashboard/apis/{api}/versions", post(versions::create))
        .route("/dashboard/apis/{api}/versions/new", get(versions::new))
        .route(
            "/dashboard/apis/{api}/versions/{version}",
            get(versions::edit).post(versions::update),
        )
        .route(
            "/dashboard/apis/{api}/versions/{version}/delete",
            post(versions::delete),
        )
        .route("/dashboard/groups", get(groups::list).post(groups::create))
        .route("/dashboard/groups/new", get(groups::new))
        .route("/dashboard/groups/{group}", get(groups::show).post(groups::update))
        .route("/dashboard/groups/{group}/members", post(groups::add_member))
        .route(
            "/dashboard/groups/{group}/members/{user}/remove",
            post(groups::remove_member),
        )
        .route("/dashboard/groups/{group}/delete", post(groups::delete))
        .route("/dashboard/users", get(users::list).post(users::create))
        .route("/dashboard/users/new", get(users::new))
        .route("/dashboard/users/{user}", get(users::show).post(users::update))
        .route("/dashboard/users/{user}/invitation", post(users::invite))
        .route("/dashboard/users/{user}/disabled", post(users::set_disabled))
        .route("/dashboard/policies", get(policies::list).post(policies::create))
        .route("/dashboard/policies/new", get(policies::new))
        .route(
            "/dashboard/policies/{policy}",
            get(policies::edit).post(policies::update),
        )
        .route("/dashboard/policies/{policy}/delete", post(policies::delete))
        .route("/dashboard/access", get(access::index))
        .route("/dashboard/access/apis/{api}", get(access::by_api))
        .route("/dashboard/access/users/{user}", get(access::by_user))
        .route("/dashboard/plans", get(plans::list).post(plans::create))
        .route("/dashboard/plans/new", get(plans::new))
        .route("/dashboard/plans/{plan}", get(plans::edit).post(plans::update))
        .route("/dashboard/plans/{plan}/delete", post(plans::delete))
        .route("/dashboard/keys", get(keys::list))
        .route("/dashboard/keys/{application}/{key}/revoke", post(keys::revoke))
        .route("/dashboard/keys/certificates", post(keys::register_certificate))
        .route(
            "/dashboard/keys/{application}/certificates/{certificate}/revoke",
            post(keys::revoke_certificate),
        )
        .route("/dashboard/gateways", get(gateways::list))
        .route(
            "/dashboard/certificates",
            get(certificates::list).post(certificates::upload),
        )
        .route("/dashboard/certificates/{name}/delete", post(certificates::delete))
        .route("/dashboard/client-cas", post(certificates::upload_client_ca))
        .route(
            "/dashboard/client-cas/{name}/delete",
            post(certificates::delete_client_ca),
        )
        .route("/dashboard/revisions", get(revisions::list))
        .route("/dashboard/revisions/diff", get(revisions::diff))
        .route("/dashboard/revisions/publish", post(revisions::publish))
        .route("/dashboard/revisions/{number}/rollback", post(revisions::rollback))
        .route("/dashboard/audit", get(audit::list))
        .route("/dashboard/analytics", get(analytics::page))
}

/// The header and side bar of a signed-in page.
pub struct Nav {
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    /// Which entry is the current page.
    pub current: &'static str,
    /// Whether to show the buttons and forms that change things.
    pub can_change: bool,
}

const ENTRIES: [(&str, &str, &str); 13] = [
    ("overview", "/dashboard", "Overview"),
    ("apis", "/dashboard/apis", "APIs"),
    ("groups", "/dashboard/groups", "Groups"),
    ("users", "/dashboard/users", "Users"),
    ("policies", "/dashboard/policies", "Access policies"),
    ("access", "/dashboard/access", "Who can call what"),
    ("plans", "/dashboard/plans", "Plans"),
    ("keys", "/dashboard/keys", "Applications and keys"),
    ("gateways", "/dashboard/gateways", "Gateways"),
    ("certificates", "/dashboard/certificates", "Certificates"),
    ("revisions", "/dashboard/revisions", "Revisions"),
    ("audit", "/dashboard/audit", "Audit log"),
    ("analytics", "/dashboard/analytics", "Analytics"),
];

impl Nav {
    pub fn of(signed_in: &SignedIn, current: &'static str) -> Option<Nav> {
        let user = &signed_in.user;
        let shown = if user.display_name.is_empty() {
            &user.name
        } else {
            &user.display_name
        };
        Some(Nav {
            user: shown.clone(),
            role: user.role.as_str(),
            csrf: signed_in.csrf.clone(),
            current,
            can_change: signed_in.can_change(),
        })
    }

    /// The side bar: (id, link, label).
    pub fn entries(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &ENTRIES
    }
}

#[derive(Template)]
#[template(path = "hub/error.html")]
struct ErrorPage<'a> {
    nav: Option<Nav>,
    title: &'a str,
    message: &'a str,
}

/// The page for an error: its status's reason as the title, the message under it.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = crate::web::status_title(status);
    render(&ErrorPage {
        nav: None,
        title,
        message,
    })
}

/// A form that carries only the CSRF token (buttons: delete, revoke, sign out).
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: Option<String>,
}

/// After a change, back to a page (303, so a reload does not post again).
pub fn see(path: impl AsRef<str>) -> Response {
    Redirect::to(path.as_ref()).into_response()
}

/// A form shown again with its errors: 400 for a person, with what they typed.
pub fn refused<T: Template>(template: &T) -> Response {
    (StatusCode::BAD_REQUEST, render(template)).into_response()
}

/// Words for values in templates (askama calls methods; the trait must be in scope).
pub trait Shown {
    fn shown(&self) -> String;
}

impl Shown for crate::domain::fleet::Liveness {
    fn shown(&self) -> String {
        use crate::domain::fleet::Liveness;
        match self {
            Liveness::Online => "online",
            Liveness::Stale => "stale",
            Liveness::Offline => "offline",
            Liveness::NeverSeen => "never seen",
        }
        .to_owned()
    }
}

impl Shown for crate::compiler::diff::ChangeKind {
    fn shown(&self) -> String {
        use crate::compiler::diff::ChangeKind;
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
        .to_owned()
    }
}

impl Shown for u64 {
    /// 12,345.
    fn shown(&self) -> String {
        crate::web::thousands(*self)
    }
}
