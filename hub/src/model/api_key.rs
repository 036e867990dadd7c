//! An API key: an application's credential. The secret is shown once, when issued; the hub
//! keeps only its SHA-256 hash and a short visible prefix to recognise it by.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Application, Kind, Reference, UniqueClaim};
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN};

/// An API key as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub application: String,
    pub name: String,
    /// The first characters of the key, safe to show.
    pub prefix: String,
    /// Hex SHA-256 of the whole key.
    pub hash: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What the API shows of an API key: never the secret nor its hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    #[schema(example = "key_4n8c1z6v0b2m")]
    pub id: String,
    pub application: String,
    pub name: String,
    /// The first characters of the key, to recognise it by.
    #[schema(example = "ghk_Xa81")]
    pub prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Kind for ApiKey {
    const KIND: &'static str = "api_key";
    const LABEL: &'static str = "API key";
    type Input = ApiKey;
    type View = ApiKeyView;

    fn key(&self) -> String {
        self.id.clone()
    }

    fn from_input(key: ApiKey, _previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.ensure(!key.name.trim().is_empty(), "name", "must not be empty");
        checker.text("name", &key.name, MAX_SHORT_TEXT_LEN);
        checker.finish().map(|()| key)
    }

    fn view(&self) -> ApiKeyView {
        ApiKeyView {
            id: self.id.clone(),
            application: self.application.clone(),
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        }
    }

    fn references(&self) -> Vec<Reference> {
        vec![Reference::owner("application", Application::KIND, &self.application)]
    }

    fn unique_claims(&self) -> Vec<UniqueClaim> {
        vec![UniqueClaim {
            scope: "api_key_hash",
            value: self.hash.clone(),
            field: "key",
        }]
    }

    fn labels(&self) -> Vec<String> {
        vec![format!("revoked:{}", self.revoked_at.is_some())]
    }

    fn search_text(&self) -> String {
        format!("{}\n{}", self.name, self.prefix)
    }
}
