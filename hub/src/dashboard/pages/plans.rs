//! Plans: rate limits and quotas, each with the APIs, groups and users it governs (through the
//! policies that name it).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::{CsrfForm, Nav, refused, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Form, Refused, number};
use crate::dashboard::session::SignedIn;
use crate::domain::objects;
use crate::http::AppState;
use crate::model::{AccessPolicy, Plan, Quota, QuotaPeriod, RateLimit, User};
use crate::web::render;

/// What a plan governs: through which policies, which APIs and groups, how many users.
pub struct Governs {
    pub policies: Vec<String>,
    pub apis: Vec<String>,
    pub groups: Vec<String>,
    pub users: usize,
}

fn governs(plan: &str, policies: &[AccessPolicy], users: &[User]) -> Governs {
    let naming: Vec<&AccessPolicy> = policies.iter().filter(|policy| policy.plan == plan).collect();
    let mut apis: Vec<String> = naming
        .iter()
        .flat_map(|policy| policy.apis.iter().map(|grant| grant.api.clone()))
        .collect();
    apis.sort();
    apis.dedup();
    let mut groups: Vec<String> = naming.iter().flat_map(|policy| policy.groups.iter().cloned()).collect();
    groups.sort();
    groups.dedup();
    let users = users
        .iter()
        .filter(|user| !user.disabled && user.groups.iter().any(|group| groups.contains(group)))
        .count();
    Governs {
        policies: naming.iter().map(|policy| policy.name.clone()).collect(),
        apis,
        groups,
        users,
    }
}

/// "2,000 requests per 65 s, 100,000 per month".
pub fn describe(plan: &Plan) -> String {
    use super::Shown;
    let mut text = format!(
        "{} requests per {} s",
        plan.rate_limit.requests.shown(),
        plan.rate_limit.window_seconds.shown()
    );
    if let Some(quota) = &plan.quota {
        let period = match quota.period {
            QuotaPeriod::Day => "day",
            QuotaPeriod::Month => "month",
        };
        text.push_str(&format!(", {} per {period}", quota.requests.shown()));
    }
    text
}

#[derive(Template)]
#[template(path = "hub/plans.html")]
struct ListPage {
    nav: Option<Nav>,
    plans: Vec<(Plan, Governs)>,
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    let policies = objects::all::<AccessPolicy>(&state.store).await?;
    let users = objects::all::<User>(&state.store).await?;
    let plans = objects::all::<Plan>(&state.store)
        .await?
        .into_iter()
        .map(|plan| {
            let governs = governs(&plan.name, &policies, &users);
            (plan, governs)
        })
        .collect();
    Ok(render(&ListPage {
        nav: Nav::of(&signed_in, "plans"),
        plans,
    }))
}

#[derive(Deserialize, Default)]
pub struct PlanForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rate_requests: String,
    #[serde(default)]
    window_seconds: String,
    #[serde(default)]
    quota_requests: String,
    /// `none`, `day` or `month`.
    #[serde(default)]
    quota_period: String,
    /// `enforce` or `shadow`.
    #[serde(default)]
    mode: String,
}

impl PlanForm {
    fn of(plan: &Plan) -> PlanForm {
        PlanForm {
            csrf: None,
            name: plan.name.clone(),
            description: plan.description.clone(),
            rate_requests: plan.rate_limit.requests.to_string(),
            window_seconds: plan.rate_limit.window_seconds.to_string(),
            quota_requests: plan
                .quota
                .as_ref()
                .map(|quota| quota.requests.to_string())
                .unwrap_or_default(),
            quota_period: match plan.quota.as_ref().map(|quota| quota.period) {
                None => "none",
                Some(QuotaPeriod::Day) => "day",
                Some(QuotaPeriod::Month) => "month",
            }
            .into(),
            mode: plan.mode.as_str().to_owned(),
        }
    }

    fn parse(&self) -> Result<Plan, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mode = super::shadow_mode(&mut errors, &self.mode);
        let requests = number(&mut errors, "rate_requests", &self.rate_requests);
        let window = number(&mut errors, "window_seconds", &self.window_seconds);
        let period = match self.quota_period.as_str() {
            "" | "none" => None,
            "day" => Some(QuotaPeriod::Day),
            "month" => Some(QuotaPeriod::Month),
            other => {
                errors.add("quota_period", format!("must be none, day or month, not `{other}`"));
                None
            }
        };
        let quota = match (period, self.quota_requests.trim()) {
            (None, "") => None,
            (None, _) => {
                errors.add("quota_period", "choose the period the quota counts over");
                None
            }
            (Some(_), "") => {
                errors.add("quota_requests", "say how many requests the quota allows");
                None
            }
            (Some(period), text) => {
                number(&mut errors, "quota_requests", text).map(|requests| Quota { requests, period })
            }
        };
        match (requests, window) {
            (Some(requests), Some(window_seconds)) if errors.is_empty() => Ok(Plan {
                name: self.name.trim().to_owned(),
                description: self.description.trim().to_owned(),
                rate_limit: RateLimit {
                    requests,
                    window_seconds,
                },
                quota,
                mode,
            }),
            _ => Err(errors),
        }
    }
}

fn place(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "name",
        "description" => "description",
        "rate_limit.requests" => "rate_requests",
        "rate_limit.window_seconds" => "window_seconds",
        "quota.requests" => "quota_requests",
        "quota" | "quota.period" => "quota_period",
        "mode" => "mode",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "hub/plan.html")]
struct PlanPage {
    nav: Option<Nav>,
    editing: Option<String>,
    form: PlanForm,
    errors: FieldErrors,
    governs: Option<Governs>,
    /// For a shadowed plan: who it would have refused in the last hour, in words.
    shadow: Option<String>,
    can_change: bool,
    csrf: String,
}

impl PlanPage {
    fn new(
        signed_in: &SignedIn,
        editing: Option<String>,
        form: PlanForm,
        errors: FieldErrors,
        governs: Option<Governs>,
    ) -> PlanPage {
        PlanPage {
            nav: Nav::of(signed_in, "plans"),
            editing,
            form,
            errors,
            governs,
            shadow: None,
            can_change: signed_in.can_change(),
            csrf: signed_in.csrf.clone(),
        }
    }
}

pub async fn new(signed_in: SignedIn) -> Result<Response, DashboardError> {
    signed_in.require_admin()?;
    let form = PlanForm {
        window_seconds: "60".into(),
        quota_period: "none".into(),
        ..PlanForm::default()
    };
    Ok(render(&PlanPage::new(
        &signed_in,
        None,
        form,
        FieldErrors::default(),
        None,
    )))
}

async fn save(
    signed_in: SignedIn,
    state: AppState,
    editing: Option<String>,
    mut form: PlanForm,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    if let Some(name) = &editing {
        form.name = name.clone();
    }
    let outcome = match form.parse() {
        Ok(plan) => match &editing {
            Some(name) => objects::replace::<Plan>(&state.store, actor, name, plan).await,
            None => objects::create::<Plan>(&state.store, actor, plan).await,
        }
        .map_err(|error| Refused::from_hub(error, place)),
        Err(errors) => Err(Refused::Form(errors)),
    };
    match outcome {
        Ok(record) => Ok(see(format!("/dashboard/plans/{}", record.object.name))),
        Err(Refused::Form(errors)) => Ok(refused(&PlanPage::new(&signed_in, editing, form, errors, None))),
        Err(Refused::Page(error)) => Err(error),
    }
}

pub async fn create(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Form(form): Form<PlanForm>,
) -> Result<Response, DashboardError> {
    save(signed_in, state, None, form).await
}

pub async fn edit(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, DashboardError> {
    let plan = objects::get::<Plan>(&state.store, &name).await?.object;
    let policies = objects::all::<AccessPolicy>(&state.store).await?;
    let users = objects::all::<User>(&state.store).await?;
    let governs = governs(&name, &policies, &users);
    let mut page = PlanPage::new(
        &signed_in,
        Some(name.clone()),
        PlanForm::of(&plan),
        FieldErrors::default(),
        Some(governs),
    );
    if plan.mode.is_shadow() {
        let users = crate::domain::shadow::recent_for(&state.store, "plan", &name, chrono::Utc::now()).await?;
        page.shadow = Some(crate::domain::shadow::sentence(&users));
    }
    Ok(render(&page))
}

pub async fn update(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(form): Form<PlanForm>,
) -> Result<Response, DashboardError> {
    objects::get::<Plan>(&state.store, &name).await?;
    save(signed_in, state, Some(name), form).await
}

pub async fn delete(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    objects::delete::<Plan>(&state.store, actor, &name, false).await?;
    Ok(see("/dashboard/plans"))
}
