//! Users: list, create (with an invitation link to set a password on the portal), edit role
//! and groups, disable (their keys stop working at the next publish) and enable.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::groups::input_of;
use super::{CsrfForm, Nav, refused, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Form, Refused, head};
use crate::dashboard::session::SignedIn;
use crate::domain::objects;
use crate::domain::sign_in::{self, IssuedLink, LinkPurpose};
use crate::http::AppState;
use crate::model::user::UserInput;
use crate::model::{Group, Role, User};
use crate::web::render;

#[derive(Template)]
#[template(path = "hub/users.html")]
struct ListPage {
    nav: Option<Nav>,
    users: Vec<User>,
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    let users = objects::all::<User>(&state.store).await?;
    Ok(render(&ListPage {
        nav: Nav::of(&signed_in, "users"),
        users,
    }))
}

/// What the user form holds, as typed; `groups` repeats once per ticked box.
#[derive(Deserialize, Default)]
pub struct UserForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    invite: Option<String>,
}

pub const ROLES: [&str; 3] = ["developer", "viewer", "admin"];

impl UserForm {
    fn of(user: &User) -> UserForm {
        UserForm {
            csrf: None,
            name: user.name.clone(),
            display_name: user.display_name.clone(),
            email: user.email.clone().unwrap_or_default(),
            role: user.role.as_str().into(),
            groups: user.groups.clone(),
            password: String::new(),
            invite: None,
        }
    }

    fn parse(&self, previous: Option<&User>) -> Result<UserInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let role = match self.role.as_str() {
            "developer" => Role::Developer,
            "viewer" => Role::Viewer,
            "admin" => Role::Admin,
            other => {
                errors.add("role", format!("must be developer, viewer or admin, not `{other}`"));
                Role::Developer
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(UserInput {
            name: self.name.trim().to_owned(),
            email: Some(self.email.trim().to_owned()).filter(|email| !email.is_empty()),
            display_name: self.display_name.trim().to_owned(),
            role,
            groups: self.groups.clone(),
            disabled: previous.is_some_and(|user| user.disabled),
            password: Some(self.password.clone()).filter(|password| !password.is_empty()),
        })
    }
}

fn place(field: &str) -> Option<&'static str> {
    match head(field) {
        "name" => Some("name"),
        "display_name" => Some("display_name"),
        "email" => Some("email"),
        "role" => Some("role"),
        "groups" => Some("groups"),
        "password" => Some("password"),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "hub/user.html")]
struct UserPage {
    nav: Option<Nav>,
    editing: Option<User>,
    form: UserForm,
    errors: FieldErrors,
    groups: Vec<String>,
    roles: [&'static str; 3],
    link: Option<IssuedLink>,
    can_change: bool,
    csrf: String,
}

async fn user_page(
    signed_in: &SignedIn,
    state: &AppState,
    editing: Option<User>,
    form: UserForm,
    errors: FieldErrors,
    link: Option<IssuedLink>,
) -> Result<UserPage, DashboardError> {
    let groups = objects::all::<Group>(&state.store)
        .await?
        .into_iter()
        .map(|group| group.name)
        .collect();
    Ok(UserPage {
        nav: Nav::of(signed_in, "users"),
        editing,
        form,
        errors,
        groups,
        roles: ROLES,
        link,
        can_change: signed_in.can_change(),
        csrf: signed_in.csrf.clone(),
    })
}

pub async fn new(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    signed_in.require_admin()?;
    let form = UserForm {
        role: "developer".into(),
        invite: Some("on".into()),
        ..UserForm::default()
    };
    Ok(render(
        &user_page(&signed_in, &state, None, form, FieldErrors::default(), None).await?,
    ))
}

pub async fn create(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Form(form): Form<UserForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let outcome = match form.parse(None) {
        Ok(input) => objects::create::<User>(&state.store, actor, input)
            .await
            .map_err(|error| Refused::from_hub(error, place)),
        Err(errors) => Err(Refused::Form(errors)),
    };
    match outcome {
        Ok(record) if form.invite.is_some() => {
            let link =
                sign_in::issue_password_link(&state.store, actor, &record.object.name, LinkPurpose::Invitation).await?;
            let user = record.object;
            Ok(render(
                &user_page(
                    &signed_in,
                    &state,
                    Some(user.clone()),
                    UserForm::of(&user),
                    FieldErrors::default(),
                    Some(link),
                )
                .await?,
            ))
        }
        Ok(record) => Ok(see(format!("/dashboard/users/{}", record.object.name))),
        Err(Refused::Form(errors)) => Ok(refused(&user_page(&signed_in, &state, None, form, errors, None).await?)),
        Err(Refused::Page(error)) => Err(error),
    }
}

pub async fn show(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, DashboardError> {
    let user = objects::get::<User>(&state.store, &name).await?.object;
    let form = UserForm::of(&user);
    Ok(render(
        &user_page(&signed_in, &state, Some(user), form, FieldErrors::default(), None).await?,
    ))
}

pub async fn update(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(mut form): Form<UserForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    form.name = name.clone();
    let previous = objects::get::<User>(&state.store, &name).await?.object;
    let outcome = match form.parse(Some(&previous)) {
        Ok(input) => objects::replace::<User>(&state.store, actor, &name, input)
            .await
            .map_err(|error| Refused::from_hub(error, place)),
        Err(errors) => Err(Refused::Form(errors)),
    };
    match outcome {
        Ok(_) => Ok(see(format!("/dashboard/users/{name}"))),
        Err(Refused::Form(errors)) => Ok(refused(
            &user_page(&signed_in, &state, Some(previous), form, errors, None).await?,
        )),
        Err(Refused::Page(error)) => Err(error),
    }
}

/// `POST …/invitation`: a new invitation link (a reset for a user who has a password).
pub async fn invite(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let user = objects::get::<User>(&state.store, &name).await?.object;
    let purpose = if user.password_hash.is_some() {
        LinkPurpose::Reset
    } else {
        LinkPurpose::Invitation
    };
    let link = sign_in::issue_password_link(&state.store, actor, &name, purpose).await?;
    let form = UserForm::of(&user);
    Ok(render(
        &user_page(&signed_in, &state, Some(user), form, FieldErrors::default(), Some(link)).await?,
    ))
}

#[derive(Deserialize)]
pub struct DisabledForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    disabled: String,
}

/// `POST …/disabled` with `disabled=true|false`.
pub async fn set_disabled(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<DisabledForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let disabled = match form.disabled.as_str() {
        "true" => true,
        "false" => false,
        other => {
            return Err(DashboardError::Invalid(format!(
                "disabled: must be true or false, not `{other}`"
            )));
        }
    };
    if disabled && name == signed_in.user.name {
        return Err(DashboardError::Invalid("you cannot disable your own account".into()));
    }
    let user = objects::get::<User>(&state.store, &name).await?.object;
    let mut input = input_of(&user);
    input.disabled = disabled;
    objects::replace::<User>(&state.store, actor, &name, input).await?;
    Ok(see(format!("/dashboard/users/{name}")))
}
