//! Admin authentication as extractors: `Viewer` admits any admin-API role, `Admin` only admins.
//! Credentials are a bearer admin token, or a user's name and password (HTTP Basic).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;

use super::AppState;
use super::problem::ApiError;
use crate::domain::admin_tokens;
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::Role;

/// A caller allowed to read: role `viewer` or `admin`.
pub struct Viewer(pub Actor);

/// A caller allowed to change things: role `admin`.
pub struct Admin(pub Actor);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let actor = authenticate(parts, state).await?;
        actor.require(Role::Viewer)?;
        Ok(Viewer(actor))
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let actor = authenticate(parts, state).await?;
        actor.require(Role::Admin)?;
        Ok(Admin(actor))
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Actor, HubError> {
    let missing = || HubError::Unauthenticated {
        detail: "send an admin token as `Authorization: Bearer <token>`, or a user name and password with Basic".into(),
    };
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, credentials) = value.split_once(' ').ok_or_else(missing)?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        admin_tokens::authenticate_token(&state.store, credentials).await
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .map_err(|_| missing())?;
        let decoded = String::from_utf8(decoded).map_err(|_| missing())?;
        let (name, password) = decoded.split_once(':').ok_or_else(missing)?;
        if !crate::validate::is_name(name) || password.len() > crate::model::user::MAX_PASSWORD_LEN {
            return Err(HubError::Unauthenticated {
                detail: "the user name or password is wrong".into(),
            });
        }
        admin_tokens::authenticate_password(&state.store, name, password).await
    } else {
        Err(missing())
    }
}
