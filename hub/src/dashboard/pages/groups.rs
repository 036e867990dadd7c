//! Groups: list, create, edit, delete, and membership (kept on each user, changed here).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::{CsrfForm, Nav, refused, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Refused, head};
use crate::dashboard::session::SignedIn;
use crate::domain::objects;
use crate::http::AppState;
use crate::model::user::UserInput;
use crate::model::{AccessPolicy, Group, User};
use crate::web::render;

#[derive(Template)]
#[template(path = "hub/groups.html")]
struct ListPage {
    nav: Option<Nav>,
    /// Each group with its member count and the policies that name it.
    groups: Vec<(Group, usize, Vec<String>)>,
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    let users = objects::all::<User>(&state.store).await?;
    let policies = objects::all::<AccessPolicy>(&state.store).await?;
    let groups = objects::all::<Group>(&state.store)
        .await?
        .into_iter()
        .map(|group| {
            let members = users.iter().filter(|user| user.groups.contains(&group.name)).count();
            let granted_by = policies
                .iter()
                .filter(|policy| policy.groups.contains(&group.name))
                .map(|policy| policy.name.clone())
                .collect();
            (group, members, granted_by)
        })
        .collect();
    Ok(render(&ListPage {
        nav: Nav::of(&signed_in, "groups"),
        groups,
    }))
}

#[derive(Deserialize, Default)]
pub struct GroupForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
}

fn place(field: &str) -> Option<&'static str> {
    match head(field) {
        "name" => Some("name"),
        "display_name" => Some("display_name"),
        "description" => Some("description"),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "hub/group.html")]
struct GroupPage {
    nav: Option<Nav>,
    editing: Option<String>,
    form: GroupForm,
    errors: FieldErrors,
    members: Vec<User>,
    /// Users not in the group, for the add-member list.
    others: Vec<String>,
    member_error: Option<String>,
    can_change: bool,
    csrf: String,
}

impl GroupForm {
    fn to_group(&self) -> Group {
        Group {
            name: self.name.trim().to_owned(),
            display_name: self.display_name.trim().to_owned(),
            description: self.description.trim().to_owned(),
        }
    }
}

async fn group_page(
    signed_in: &SignedIn,
    state: &AppState,
    editing: Option<String>,
    form: GroupForm,
    errors: FieldErrors,
    member_error: Option<String>,
) -> Result<GroupPage, DashboardError> {
    let users = objects::all::<User>(&state.store).await?;
    let (members, others) = match &editing {
        Some(name) => users.into_iter().partition(|user| user.groups.contains(name)),
        None => (Vec::new(), Vec::new()),
    };
    Ok(GroupPage {
        nav: Nav::of(signed_in, "groups"),
        editing,
        form,
        errors,
        members,
        others: others.into_iter().map(|user| user.name).collect(),
        member_error,
        can_change: signed_in.can_change(),
        csrf: signed_in.csrf.clone(),
    })
}

pub async fn new(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    signed_in.require_admin()?;
    Ok(render(
        &group_page(
            &signed_in,
            &state,
            None,
            GroupForm::default(),
            FieldErrors::default(),
            None,
        )
        .await?,
    ))
}

pub async fn create(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Form(form): Form<GroupForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    match objects::create::<Group>(&state.store, actor, form.to_group()).await {
        Ok(record) => Ok(see(format!("/dashboard/groups/{}", record.object.name))),
        Err(error) => match Refused::from_hub(error, place) {
            Refused::Form(errors) => Ok(refused(
                &group_page(&signed_in, &state, None, form, errors, None).await?,
            )),
            Refused::Page(error) => Err(error),
        },
    }
}

pub async fn show(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, DashboardError> {
    let group = objects::get::<Group>(&state.store, &name).await?.object;
    let form = GroupForm {
        csrf: None,
        name: group.name.clone(),
        display_name: group.display_name,
        description: group.description,
    };
    Ok(render(
        &group_page(&signed_in, &state, Some(name), form, FieldErrors::default(), None).await?,
    ))
}

pub async fn update(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(mut form): Form<GroupForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    form.name = name.clone();
    match objects::replace::<Group>(&state.store, actor, &name, form.to_group()).await {
        Ok(_) => Ok(see(format!("/dashboard/groups/{name}"))),
        Err(error) => match Refused::from_hub(error, place) {
            Refused::Form(errors) => Ok(refused(
                &group_page(&signed_in, &state, Some(name), form, errors, None).await?,
            )),
            Refused::Page(error) => Err(error),
        },
    }
}

pub async fn delete(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    // Members and policies let go of it.
    objects::delete::<Group>(&state.store, actor, &name, true).await?;
    Ok(see("/dashboard/groups"))
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    user: String,
}

/// A user's input that keeps everything as it is (the password too), for membership changes.
pub fn input_of(user: &User) -> UserInput {
    UserInput {
        name: user.name.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        groups: user.groups.clone(),
        disabled: user.disabled,
        password: None,
    }
}

pub async fn add_member(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(form): Form<MemberForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    objects::get::<Group>(&state.store, &name).await?;
    let user_name = form.user.trim();
    let problem = match objects::get::<User>(&state.store, user_name).await {
        Ok(record) => {
            let mut input = input_of(&record.object);
            if !input.groups.contains(&name) {
                input.groups.push(name.clone());
                objects::replace::<User>(&state.store, actor, user_name, input).await?;
            }
            None
        }
        Err(crate::error::HubError::NotFound { .. }) => Some(format!("there is no user `{user_name}`")),
        Err(error) => return Err(error.into()),
    };
    match problem {
        None => Ok(see(format!("/dashboard/groups/{name}"))),
        Some(message) => {
            let group = objects::get::<Group>(&state.store, &name).await?.object;
            let group_form = GroupForm {
                csrf: None,
                name: group.name,
                display_name: group.display_name,
                description: group.description,
            };
            Ok(refused(
                &group_page(
                    &signed_in,
                    &state,
                    Some(name),
                    group_form,
                    FieldErrors::default(),
                    Some(message),
                )
                .await?,
            ))
        }
    }
}

pub async fn remove_member(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path((name, user)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let record = objects::get::<User>(&state.store, &user).await?;
    let mut input = input_of(&record.object);
    input.groups.retain(|group| group != &name);
    objects::replace::<User>(&state.store, actor, &user, input).await?;
    Ok(see(format!("/dashboard/groups/{name}")))
}
