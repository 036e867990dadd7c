//! An admin API token: a bearer credential for the admin REST API, with a role. Like API keys,
//! the secret is shown once and only its hash is kept.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Kind, Role, UniqueClaim};
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN};

/// An admin API token as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    /// Hex SHA-256 of the whole token.
    pub hash: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What the API shows of an admin token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminTokenView {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The first characters of the token, to recognise it by.
    pub prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Kind for AdminToken {
    const KIND: &'static str = "admin_token";
    const LABEL: &'static str = "admin token";
    type Input = AdminToken;
    type View = AdminTokenView;

    fn key(&self) -> String {
        self.id.clone()
    }

    fn from_input(token: AdminToken, _previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.ensure(!token.name.trim().is_empty(), "name", "must not be empty");
        checker.text("name", &token.name, MAX_SHORT_TEXT_LEN);
        checker.ensure(token.role != Role::Developer, "role", "must be `admin` or `viewer`");
        checker.finish().map(|()| token)
    }

    fn view(&self) -> AdminTokenView {
        AdminTokenView {
            id: self.id.clone(),
            name: self.name.clone(),
            role: self.role,
            prefix: self.prefix.clone(),
            expires_at: self.expires_at,
        }
    }

    fn unique_claims(&self) -> Vec<UniqueClaim> {
        vec![UniqueClaim {
            scope: "admin_token_hash",
            value: self.hash.clone(),
            field: "token",
        }]
    }

    fn labels(&self) -> Vec<String> {
        vec![format!("role:{}", self.role.as_str())]
    }

    fn search_text(&self) -> String {
        self.name.clone()
    }
}
