//! Access policies: grants of APIs (narrowed by versions, methods or operations) to groups,
//! under a plan. Grants are written one a line:
//! `employees versions=v2 methods=GET,HEAD operations=listEmployees`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::{CsrfForm, Nav, refused, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Form, head, words};
use crate::dashboard::session::SignedIn;
use crate::domain::objects;
use crate::error::HubError;
use crate::http::AppState;
use crate::model::{AccessPolicy, Api, ApiGrant, Group, HttpMethod, Plan};
use crate::web::render;

#[derive(Template)]
#[template(path = "hub/policies.html")]
struct ListPage {
    nav: Option<Nav>,
    policies: Vec<AccessPolicy>,
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    Ok(render(&ListPage {
        nav: Nav::of(&signed_in, "policies"),
        policies: objects::all::<AccessPolicy>(&state.store).await?,
    }))
}

/// A grant as the form writes it.
pub fn grant_text(grant: &ApiGrant) -> String {
    let mut line = grant.api.clone();
    if !grant.versions.is_empty() {
        line.push_str(&format!(" versions={}", grant.versions.join(",")));
    }
    if !grant.methods.is_empty() {
        let methods: Vec<&str> = grant.methods.iter().map(|method| method_name(*method)).collect();
        line.push_str(&format!(" methods={}", methods.join(",")));
    }
    if !grant.operations.is_empty() {
        line.push_str(&format!(" operations={}", grant.operations.join(",")));
    }
    line
}

fn method_name(method: HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Head => "HEAD",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
    }
}

fn parse_method(name: &str) -> Option<HttpMethod> {
    Some(match name.to_ascii_uppercase().as_str() {
        "GET" => HttpMethod::Get,
        "HEAD" => HttpMethod::Head,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        "OPTIONS" => HttpMethod::Options,
        _ => return None,
    })
}

/// Parses the grants, one a line; returns them with the line each came from.
fn parse_grants(errors: &mut FieldErrors, text: &str) -> (Vec<ApiGrant>, Vec<usize>) {
    let mut grants = Vec::new();
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let mut words = line.split_whitespace();
        let Some(api) = words.next() else { continue };
        let mut grant = ApiGrant {
            api: api.to_owned(),
            versions: Vec::new(),
            methods: Vec::new(),
            operations: Vec::new(),
        };
        for word in words {
            let Some((key, values)) = word.split_once('=') else {
                errors.add(
                    "grants",
                    format!("line {number}: `{word}` should be versions=…, methods=… or operations=…"),
                );
                continue;
            };
            let values = values.split(',').filter(|value| !value.is_empty()).map(str::to_owned);
            match key {
                "versions" => grant.versions.extend(values),
                "operations" => grant.operations.extend(values),
                "methods" => {
                    for value in values {
                        match parse_method(&value) {
                            Some(method) => grant.methods.push(method),
                            None => errors.add(
                                "grants",
                                format!("line {number}: `{value}` is not a method a policy can grant (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"),
                            ),
                        }
                    }
                }
                other => errors.add(
                    "grants",
                    format!("line {number}: `{other}` is not versions, methods or operations"),
                ),
            }
        }
        grants.push(grant);
        lines.push(number);
    }
    (grants, lines)
}

#[derive(Deserialize, Default)]
pub struct PolicyForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    grants: String,
    /// `enforce` or `shadow`.
    #[serde(default)]
    mode: String,
    /// The access policies this one replaces, comma-separated.
    #[serde(default)]
    replaces: String,
    /// CIDRs the grants apply from, one a line (or comma-separated).
    #[serde(default)]
    ip_allow: String,
    /// CIDRs the grants never apply from.
    #[serde(default)]
    ip_deny: String,
}

impl PolicyForm {
    fn of(policy: &AccessPolicy) -> PolicyForm {
        PolicyForm {
            csrf: None,
            name: policy.name.clone(),
            description: policy.description.clone(),
            groups: policy.groups.clone(),
            plan: policy.plan.clone(),
            grants: policy.apis.iter().map(grant_text).collect::<Vec<_>>().join("\n"),
            mode: policy.mode.as_str().to_owned(),
            replaces: policy.replaces.join(", "),
            ip_allow: policy.ip_allow.join("\n"),
            ip_deny: policy.ip_deny.join("\n"),
        }
    }
}

/// Places the domain's errors; a grant's error names its line.
fn place_all(problems: &[crate::validate::FieldError], lines: &[usize]) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for problem in problems {
        let field = problem.field.as_str();
        match head(field) {
            "name" => errors.add("name", problem.message.clone()),
            "description" => errors.add("description", problem.message.clone()),
            "groups" => errors.add("groups", problem.message.clone()),
            "plan" => errors.add("plan", problem.message.clone()),
            "mode" => errors.add("mode", problem.message.clone()),
            "replaces" => errors.add("replaces", problem.message.clone()),
            "ip_allow" => errors.add("ip_allow", problem.message.clone()),
            "ip_deny" => errors.add("ip_deny", problem.message.clone()),
            "apis" => {
                let index = field
                    .strip_prefix("apis[")
                    .and_then(|rest| rest.split(']').next())
                    .and_then(|index| index.parse::<usize>().ok());
                let message = match index.and_then(|index| lines.get(index)) {
                    Some(line) => format!("line {line}: {}", problem.message),
                    None => problem.message.clone(),
                };
                errors.add("grants", message);
            }
            _ => errors.general.push(format!("{field}: {}", problem.message)),
        }
    }
    errors
}

#[derive(Template)]
#[template(path = "hub/policy.html")]
struct PolicyPage {
    nav: Option<Nav>,
    editing: Option<String>,
    form: PolicyForm,
    errors: FieldErrors,
    groups: Vec<String>,
    plans: Vec<String>,
    apis: Vec<String>,
    /// For a shadowed policy: who it would have refused in the last hour, in words.
    shadow: Option<String>,
    can_change: bool,
    csrf: String,
}

async fn policy_page(
    signed_in: &SignedIn,
    state: &AppState,
    editing: Option<String>,
    form: PolicyForm,
    errors: FieldErrors,
) -> Result<PolicyPage, DashboardError> {
    let shadow = match &editing {
        Some(name) if form.mode == "shadow" => {
            let users = crate::domain::shadow::recent_for(&state.store, "policy", name, chrono::Utc::now()).await?;
            Some(crate::domain::shadow::sentence(&users))
        }
        _ => None,
    };
    Ok(PolicyPage {
        shadow,
        nav: Nav::of(signed_in, "policies"),
        editing,
        form,
        errors,
        groups: objects::all::<Group>(&state.store)
            .await?
            .into_iter()
            .map(|group| group.name)
            .collect(),
        plans: objects::all::<Plan>(&state.store)
            .await?
            .into_iter()
            .map(|plan| plan.name)
            .collect(),
        apis: objects::all::<Api>(&state.store)
            .await?
            .into_iter()
            .map(|api| api.name)
            .collect(),
        can_change: signed_in.can_change(),
        csrf: signed_in.csrf.clone(),
    })
}

pub async fn new(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    signed_in.require_admin()?;
    Ok(render(
        &policy_page(&signed_in, &state, None, PolicyForm::default(), FieldErrors::default()).await?,
    ))
}

async fn save(
    signed_in: SignedIn,
    state: AppState,
    editing: Option<String>,
    mut form: PolicyForm,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    if let Some(name) = &editing {
        form.name = name.clone();
    }
    let mut errors = FieldErrors::default();
    let (apis, lines) = parse_grants(&mut errors, &form.grants);
    if form.plan.trim().is_empty() {
        errors.add("plan", "choose the plan calls are counted against");
    }
    let mode = crate::dashboard::pages::shadow_mode(&mut errors, &form.mode);
    let replaces: Vec<String> = form
        .replaces
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    let outcome = if errors.is_empty() {
        let policy = AccessPolicy {
            name: form.name.trim().to_owned(),
            description: form.description.trim().to_owned(),
            groups: form.groups.clone(),
            apis,
            plan: form.plan.trim().to_owned(),
            mode,
            replaces,
            ip_allow: words(&form.ip_allow),
            ip_deny: words(&form.ip_deny),
        };
        let saved = match &editing {
            Some(name) => objects::replace::<AccessPolicy>(&state.store, actor, name, policy).await,
            None => objects::create::<AccessPolicy>(&state.store, actor, policy).await,
        };
        match saved {
            Ok(record) => return Ok(see(format!("/dashboard/policies/{}", record.object.name))),
            Err(HubError::Invalid(problems)) => place_all(&problems, &lines),
            Err(HubError::Conflict { detail }) => {
                let mut errors = FieldErrors::default();
                errors.general.push(detail);
                errors
            }
            Err(error) => return Err(error.into()),
        }
    } else {
        errors
    };
    Ok(refused(&policy_page(&signed_in, &state, editing, form, outcome).await?))
}

pub async fn create(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Form(form): Form<PolicyForm>,
) -> Result<Response, DashboardError> {
    save(signed_in, state, None, form).await
}

pub async fn edit(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, DashboardError> {
    let policy = objects::get::<AccessPolicy>(&state.store, &name).await?.object;
    Ok(render(
        &policy_page(
            &signed_in,
            &state,
            Some(name),
            PolicyForm::of(&policy),
            FieldErrors::default(),
        )
        .await?,
    ))
}

pub async fn update(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(form): Form<PolicyForm>,
) -> Result<Response, DashboardError> {
    objects::get::<AccessPolicy>(&state.store, &name).await?;
    save(signed_in, state, Some(name), form).await
}

pub async fn delete(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    objects::delete::<AccessPolicy>(&state.store, actor, &name, false).await?;
    Ok(see("/dashboard/policies"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_read_back_what_they_write() {
        let mut errors = FieldErrors::default();
        let (grants, lines) = parse_grants(
            &mut errors,
            "employees versions=v2 methods=GET,head\n\npayroll operations=listPay\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(lines, vec![1, 3]);
        assert_eq!(grant_text(&grants[0]), "employees versions=v2 methods=GET,HEAD");
        assert_eq!(grant_text(&grants[1]), "payroll operations=listPay");
    }

    #[test]
    fn a_bad_grant_names_its_line() {
        let mut errors = FieldErrors::default();
        parse_grants(&mut errors, "employees\npayroll methods=FETCH colour=red");
        let message = errors.of("grants").unwrap();
        assert!(message.contains("line 2: `FETCH` is not a method"), "{message}");
        assert!(message.contains("line 2: `colour` is not versions"), "{message}");
    }
}
