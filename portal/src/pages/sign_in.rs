//! Sign-in, sign-out, self sign-up and password links.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use hub::domain::sign_in::{self, SignInError, SignUp};
use serde::Deserialize;
use tower_sessions::Session;

use super::{Nav, render};
use crate::error::PortalError;
use crate::{PortalState, csrf, session};

#[derive(Template)]
#[template(path = "portal/sign_in.html")]
struct SignInPage {
    nav: Option<Nav>,
    csrf: String,
    name: String,
    error: Option<String>,
    info: Option<String>,
    providers: Vec<(String, String)>,
    self_sign_up: bool,
    title: String,
    welcome: String,
}

async fn sign_in_page(
    state: &PortalState,
    session: &Session,
    name: String,
    error: Option<String>,
    info: Option<String>,
) -> Result<SignInPage, PortalError> {
    let settings = crate::settings::effective(state).await?;
    Ok(SignInPage {
        nav: None,
        csrf: csrf::token(session).await?,
        name,
        error,
        info,
        providers: state.providers.offered(),
        self_sign_up: settings.self_sign_up,
        title: settings.title,
        welcome: settings.welcome,
    })
}

/// `GET /`: the catalog when signed in, the sign-in page otherwise.
pub async fn home(session: Session) -> Result<Redirect, PortalError> {
    Ok(match session::user_name(&session).await? {
        Some(_) => Redirect::to("/apis"),
        None => Redirect::to("/sign-in"),
    })
}

pub async fn page(State(state): State<PortalState>, session: Session) -> Result<Response, PortalError> {
    if session::user_name(&session).await?.is_some() {
        return Ok(Redirect::to("/apis").into_response());
    }
    Ok(render(
        &sign_in_page(&state, &session, String::new(), None, None).await?,
    ))
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: Option<String>,
    name: String,
    password: String,
}

pub async fn submit(
    State(state): State<PortalState>,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Result<Response, PortalError> {
    csrf::check(&session, form.csrf.as_deref()).await?;
    match sign_in::with_password(&state.store, &form.name, &form.password).await {
        Ok(user) => {
            session::begin(&state.store, &session, &user).await?;
            tracing::info!(user = %user.name, "signed in to the portal");
            Ok(Redirect::to("/apis").into_response())
        }
        Err(SignInError::Hub(error)) => Err(error.into()),
        Err(error) => {
            let status = match error {
                SignInError::Locked { .. } => axum::http::StatusCode::TOO_MANY_REQUESTS,
                _ => axum::http::StatusCode::UNAUTHORIZED,
            };
            let page = sign_in_page(&state, &session, form.name, Some(error.to_string()), None).await?;
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

pub async fn sign_out(session: Session, Form(form): Form<CsrfForm>) -> Result<Redirect, PortalError> {
    csrf::check(&session, form.csrf.as_deref()).await?;
    session::end(&session).await?;
    Ok(Redirect::to("/sign-in"))
}

#[derive(Template)]
#[template(path = "portal/sign_up.html")]
struct SignUpPage {
    nav: Option<Nav>,
    csrf: String,
    name: String,
    display_name: String,
    email: String,
    error: Option<String>,
}

pub async fn sign_up_page(State(state): State<PortalState>, session: Session) -> Result<Response, PortalError> {
    if !crate::settings::effective(&state).await?.self_sign_up {
        return Err(PortalError::NotFound);
    }
    Ok(render(&SignUpPage {
        nav: None,
        csrf: csrf::token(&session).await?,
        name: String::new(),
        display_name: String::new(),
        email: String::new(),
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    csrf: Option<String>,
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    password: String,
}

pub async fn sign_up(
    State(state): State<PortalState>,
    session: Session,
    Form(form): Form<SignUpForm>,
) -> Result<Response, PortalError> {
    if !crate::settings::effective(&state).await?.self_sign_up {
        return Err(PortalError::NotFound);
    }
    csrf::check(&session, form.csrf.as_deref()).await?;
    let created = sign_in::sign_up(
        &state.store,
        SignUp {
            name: form.name.trim().to_owned(),
            email: Some(form.email.trim().to_owned()),
            display_name: form.display_name.trim().to_owned(),
            password: form.password,
        },
    )
    .await;
    match created {
        Ok(record) => {
            session::begin(&state.store, &session, &record.object).await?;
            Ok(Redirect::to("/apis").into_response())
        }
        Err(error) => {
            let error = PortalError::from(error);
            let status = error.status();
            let page = SignUpPage {
                nav: None,
                csrf: csrf::token(&session).await?,
                name: form.name,
                display_name: form.display_name,
                email: form.email,
                error: Some(error.public_message()),
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "portal/password.html")]
struct PasswordPage {
    nav: Option<Nav>,
    csrf: String,
    user: String,
    error: Option<String>,
}

pub async fn password_page(
    State(state): State<PortalState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, PortalError> {
    let user = sign_in::password_link_user(&state.store, &token).await?;
    Ok(render(&PasswordPage {
        nav: None,
        csrf: csrf::token(&session).await?,
        user: user.name,
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: Option<String>,
    password: String,
}

pub async fn set_password(
    State(state): State<PortalState>,
    session: Session,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PortalError> {
    csrf::check(&session, form.csrf.as_deref()).await?;
    match sign_in::set_password_with_link(&state.store, &token, &form.password).await {
        Ok(user) => {
            let info = Some(format!("The password of {} is set: sign in with it.", user.name));
            Ok(render(&sign_in_page(&state, &session, user.name, None, info).await?))
        }
        Err(hub::error::HubError::Invalid(problems)) => {
            let user = sign_in::password_link_user(&state.store, &token).await?;
            let message = problems
                .iter()
                .map(|problem| format!("{}: {}", problem.field, problem.message))
                .collect::<Vec<_>>();
            let page = PasswordPage {
                nav: None,
                csrf: csrf::token(&session).await?,
                user: user.name,
                error: Some(message.join("; ")),
            };
            Ok((axum::http::StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(error) => Err(error.into()),
    }
}
