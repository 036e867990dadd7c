//! A user: an identity that belongs to groups, signs in to the portal, and may hold an admin role.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Group, KeepOne, Kind, ObjectRef, Reference, UniqueClaim};
use crate::identity::password;
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN};

/// A user as stored, with the password hash the API never shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub email: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub groups: Vec<String>,
    pub disabled: bool,
    /// Argon2id PHC string; `None` for users who sign in only through an identity provider.
    pub password_hash: Option<String>,
    /// Accounts at external identity providers that sign in as this user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<ExternalIdentity>,
}

/// An account at an OpenID Connect provider: the provider's name in the portal's configuration
/// and the `sub` it gives the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalIdentity {
    pub provider: String,
    pub subject: String,
}

/// What an admin writes to create or replace a user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Unique, immutable user name (a slug).
    #[schema(example = "alice")]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: Role,
    /// Groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// A disabled user cannot sign in, and their keys stop working.
    #[serde(default)]
    pub disabled: bool,
    /// Sets the password (12 to 256 characters); omit to keep the current one.
    #[serde(default)]
    #[schema(write_only, min_length = 12, max_length = 256)]
    pub password: Option<String>,
}

/// What the API shows of a user.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub name: String,
    pub email: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub groups: Vec<String>,
    pub disabled: bool,
    /// Whether the user can sign in with a password.
    pub has_password: bool,
    /// Identity-provider accounts linked to this user (provisioned at their first sign-in).
    pub identities: Vec<ExternalIdentity>,
}

/// What a user may do in the hub's admin API and dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Uses the portal only; no access to the admin API.
    #[default]
    Developer,
    /// Reads everything in the admin API; changes nothing.
    Viewer,
    /// Reads and changes everything.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Developer => "developer",
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }
}

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest accepted password (argon2 work grows with it).
pub const MAX_PASSWORD_LEN: usize = 256;

impl Kind for User {
    const KIND: &'static str = "user";
    const LABEL: &'static str = "user";
    type Input = UserInput;
    type View = UserView;
    // Admin tokens outlive the last admin user, but the first-start bootstrap creates `admin`
    // only when no admin user exists at all: a hub whose admins are all disabled or demoted
    // could not be recovered by restarting it.
    const KEEP_ONE: Option<KeepOne> = Some(KeepOne {
        labels: &["role:admin", "disabled:false"],
        what: "enabled admin",
        remedy: "make another user an enabled admin first, so that someone can still sign in to run the hub",
    });

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(input: UserInput, previous: Option<&User>) -> Result<User, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &input.name);
        checker.text("display_name", &input.display_name, MAX_SHORT_TEXT_LEN);
        if let Some(email) = &input.email {
            checker.text("email", email, MAX_SHORT_TEXT_LEN);
            let (local, domain) = email.split_once('@').unwrap_or(("", ""));
            checker.ensure(
                !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace),
                "email",
                "must be an email address",
            );
        }
        for (index, group) in input.groups.iter().enumerate() {
            checker.name(&format!("groups[{index}]"), group);
        }
        checker.unique("groups", input.groups.iter().map(String::as_str));
        if let Some(password) = &input.password {
            let length = password.chars().count();
            checker.ensure(
                (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&length),
                "password",
                format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
            );
        }
        checker.finish()?;
        let password_hash = match &input.password {
            Some(password) => Some(password::hash(password)),
            None => previous.and_then(|user| user.password_hash.clone()),
        };
        Ok(User {
            name: input.name,
            email: input.email,
            display_name: input.display_name,
            role: input.role,
            groups: input.groups,
            disabled: input.disabled,
            password_hash,
            identities: previous.map(|user| user.identities.clone()).unwrap_or_default(),
        })
    }

    fn view(&self) -> UserView {
        UserView {
            name: self.name.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            groups: self.groups.clone(),
            disabled: self.disabled,
            has_password: self.password_hash.is_some(),
            identities: self.identities.clone(),
        }
    }

    fn references(&self) -> Vec<Reference> {
        let groups = self.groups.iter().enumerate();
        groups
            .map(|(index, group)| Reference::to(format!("groups[{index}]"), Group::KIND, group))
            .collect()
    }

    fn unique_claims(&self) -> Vec<UniqueClaim> {
        let identities = self.identities.iter();
        identities
            .map(|identity| UniqueClaim {
                scope: "external_identity",
                value: format!("{}\n{}", identity.provider, identity.subject),
                field: "identities",
            })
            .collect()
    }

    fn labels(&self) -> Vec<String> {
        vec![
            format!("role:{}", self.role.as_str()),
            format!("disabled:{}", self.disabled),
        ]
    }

    fn search_text(&self) -> String {
        format!("{}\n{}", self.display_name, self.email.as_deref().unwrap_or(""))
    }

    fn detach(&mut self, target: &ObjectRef) -> bool {
        if target.kind == Group::KIND {
            self.groups.retain(|group| *group != target.key);
        }
        true
    }
}
