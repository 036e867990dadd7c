//! The admin API's routes for the kinds that need nothing beyond the five operations:
//! APIs, users, groups, plans, access policies, applications, gateways and portals. Each kind's list
//! filters live here, next to its routes.

use serde::Deserialize;
use utoipa::IntoParams;

use super::objects::{object_routes, page_filter};
use super::problem::ApiError;
use crate::model::access_policy::AccessPolicy;
use crate::model::application::{Application, ApplicationInput};
use crate::model::user::{Role, User, UserInput, UserView};
use crate::model::{Api, Gateway, Group, Kind, ListFilter, ObjectRef, Plan, Portal};

/// Filters for listing APIs.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiListParams {
    /// Case-insensitive text in the name, description, owner or tags.
    pub q: Option<String>,
    /// Only APIs with this tag.
    pub tag: Option<String>,
    /// Only external (`true`) or internal (`false`) APIs.
    pub external: Option<bool>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ApiListParams {
    pub fn into_filter(self) -> Result<ListFilter, ApiError> {
        let mut filter = page_filter(self.limit, self.cursor, self.q)?;
        filter.labels.extend(self.tag.map(|tag| format!("tag:{tag}")));
        filter
            .labels
            .extend(self.external.map(|external| format!("external:{external}")));
        Ok(filter)
    }
}

/// Filters for listing users.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// Case-insensitive text in the name, display name or email.
    pub q: Option<String>,
    /// Only members of this group.
    pub group: Option<String>,
    /// Only users with this role.
    pub role: Option<Role>,
    /// Only disabled (`true`) or enabled (`false`) users.
    pub disabled: Option<bool>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl UserListParams {
    pub fn into_filter(self) -> Result<ListFilter, ApiError> {
        let mut filter = page_filter(self.limit, self.cursor, self.q)?;
        filter.refers_to = self.group.map(|group| ObjectRef::new(Group::KIND, group));
        filter
            .labels
            .extend(self.role.map(|role| format!("role:{}", role.as_str())));
        filter
            .labels
            .extend(self.disabled.map(|disabled| format!("disabled:{disabled}")));
        Ok(filter)
    }
}

/// Filters for listing access policies.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessPolicyListParams {
    /// Case-insensitive text in the name or description.
    pub q: Option<String>,
    /// Only policies granting to this group.
    pub group: Option<String>,
    /// Only policies granting this API.
    pub api: Option<String>,
    /// Only policies under this plan.
    pub plan: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AccessPolicyListParams {
    pub fn into_filter(self) -> Result<ListFilter, ApiError> {
        let mut filter = page_filter(self.limit, self.cursor, self.q)?;
        let targets = [
            (Group::KIND, self.group),
            (Api::KIND, self.api),
            (Plan::KIND, self.plan),
        ];
        let mut targets = targets
            .into_iter()
            .filter_map(|(kind, key)| key.map(|key| ObjectRef::new(kind, key)));
        filter.refers_to = targets.next();
        if targets.next().is_some() {
            return Err(ApiError::rejected(
                axum::http::StatusCode::BAD_REQUEST,
                Some("group".into()),
                "filter by one of `group`, `api` or `plan` at a time",
            ));
        }
        Ok(filter)
    }
}

/// Filters for listing applications.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationListParams {
    /// Case-insensitive text in the id, name, owner or description.
    pub q: Option<String>,
    /// Only applications of this user.
    pub owner: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ApplicationListParams {
    pub fn into_filter(self) -> Result<ListFilter, ApiError> {
        let mut filter = page_filter(self.limit, self.cursor, self.q)?;
        filter.refers_to = self.owner.map(|owner| ObjectRef::new(User::KIND, owner));
        Ok(filter)
    }
}

/// Filters for listing groups, plans and gateways.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TextListParams {
    /// Case-insensitive text in the name or description.
    pub q: Option<String>,
    /// Only objects with this tag (gateways).
    pub tag: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl TextListParams {
    pub fn into_filter(self) -> Result<ListFilter, ApiError> {
        let mut filter = page_filter(self.limit, self.cursor, self.q)?;
        filter.labels.extend(self.tag.map(|tag| format!("tag:{tag}")));
        Ok(filter)
    }
}

object_routes! {
    mod apis;
    singular: api,
    kind: Api, input: Api, view: Api, params: ApiListParams,
    collection: "/apis", item: "/apis/{name}", key: "name", tag: "APIs",
}

object_routes! {
    mod users;
    singular: user,
    kind: User, input: UserInput, view: UserView, params: UserListParams,
    collection: "/users", item: "/users/{name}", key: "name", tag: "Users and groups",
}

object_routes! {
    mod groups;
    singular: group,
    kind: Group, input: Group, view: Group, params: TextListParams,
    collection: "/groups", item: "/groups/{name}", key: "name", tag: "Users and groups",
}

object_routes! {
    mod plans;
    singular: plan,
    kind: Plan, input: Plan, view: Plan, params: TextListParams,
    collection: "/plans", item: "/plans/{name}", key: "name", tag: "Plans",
}

object_routes! {
    mod access_policies;
    singular: access_policy,
    kind: AccessPolicy, input: AccessPolicy, view: AccessPolicy, params: AccessPolicyListParams,
    collection: "/access-policies", item: "/access-policies/{name}", key: "name", tag: "Access policies",
}

object_routes! {
    mod applications;
    singular: application,
    kind: Application, input: ApplicationInput, view: Application, params: ApplicationListParams,
    collection: "/applications", item: "/applications/{id}", key: "id", tag: "Applications and keys",
}

object_routes! {
    mod gateways;
    singular: gateway,
    kind: Gateway, input: Gateway, view: Gateway, params: TextListParams,
    collection: "/gateways", item: "/gateways/{name}", key: "name", tag: "Gateways",
}

object_routes! {
    mod portals;
    singular: portal,
    kind: Portal, input: Portal, view: Portal, params: TextListParams,
    collection: "/portals", item: "/portals/{name}", key: "name", tag: "Portals",
}

/// Every router declared here, merged.
pub fn router() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .merge(apis::router())
        .merge(users::router())
        .merge(groups::router())
        .merge(plans::router())
        .merge(access_policies::router())
        .merge(applications::router())
        .merge(gateways::router())
        .merge(portals::router())
}
