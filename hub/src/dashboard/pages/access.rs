//! Who can call what, in two views computed by the gateway's own rule over the latest
//! revision: by API (which groups and users, which methods, which plan) and by user (every API
//! and method they may call).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::Nav;
use crate::dashboard::error::DashboardError;
use crate::dashboard::session::SignedIn;
use crate::domain::access_views::{self, ApiView, UserView};
use crate::domain::objects;
use crate::http::AppState;
use crate::model::{Api, User};
use crate::web::render;

/// The methods' column headings, in the views' order.
pub const METHODS: [&str; 7] = gateway::access::METHODS;

#[derive(Template)]
#[template(path = "hub/access.html")]
struct IndexPage {
    nav: Option<Nav>,
    apis: Vec<String>,
    users: Vec<User>,
}

pub async fn index(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    Ok(render(&IndexPage {
        nav: Nav::of(&signed_in, "access"),
        apis: objects::all::<Api>(&state.store)
            .await?
            .into_iter()
            .map(|api| api.name)
            .collect(),
        users: objects::all::<User>(&state.store).await?,
    }))
}

#[derive(Template)]
#[template(path = "hub/access_api.html")]
struct ByApiPage {
    nav: Option<Nav>,
    api: String,
    view: Option<ApiView>,
    methods: [&'static str; 7],
}

pub async fn by_api(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(api): Path<String>,
) -> Result<Response, DashboardError> {
    objects::get::<Api>(&state.store, &api).await?;
    let view = match access_views::by_api(&state.store, &api).await {
        Ok(view) => view,
        // Created since the last publish: nothing is enforced for it yet.
        Err(crate::error::HubError::NotFound { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    Ok(render(&ByApiPage {
        nav: Nav::of(&signed_in, "access"),
        api,
        view,
        methods: METHODS,
    }))
}

#[derive(Template)]
#[template(path = "hub/access_user.html")]
struct ByUserPage {
    nav: Option<Nav>,
    user: String,
    view: Option<UserView>,
    methods: [&'static str; 7],
}

pub async fn by_user(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(user): Path<String>,
) -> Result<Response, DashboardError> {
    let view = access_views::by_user(&state.store, &user).await?;
    Ok(render(&ByUserPage {
        nav: Nav::of(&signed_in, "access"),
        user,
        view,
        methods: METHODS,
    }))
}
