//! An application: a user's client of the APIs, which holds API keys.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Kind, Reference, UniqueClaim, User};
use crate::identity::secret;
use crate::validate::{Checker, FieldError, MAX_TEXT_LEN};

/// A user's client; its API keys authenticate its calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Application {
    /// Generated, immutable identifier.
    #[schema(example = "app_3k9x2m7q4w8e")]
    pub id: String,
    /// Unique among the owner's applications (a slug).
    pub name: String,
    /// The user who owns it.
    pub owner: String,
    pub description: String,
}

/// What an admin writes to create or replace an application.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    #[schema(example = "billing-sync")]
    pub name: String,
    #[schema(example = "alice")]
    pub owner: String,
    #[serde(default)]
    pub description: String,
}

impl Kind for Application {
    const KIND: &'static str = "application";
    const LABEL: &'static str = "application";
    type Input = ApplicationInput;
    type View = Application;

    fn key(&self) -> String {
        self.id.clone()
    }

    fn from_input(input: ApplicationInput, previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &input.name);
        checker.name("owner", &input.owner);
        checker.text("description", &input.description, MAX_TEXT_LEN);
        checker.finish()?;
        Ok(Application {
            id: previous.map_or_else(|| secret::new_id("app"), |previous| previous.id.clone()),
            name: input.name,
            owner: input.owner,
            description: input.description,
        })
    }

    fn view(&self) -> Application {
        self.clone()
    }

    fn references(&self) -> Vec<Reference> {
        vec![Reference::owner("owner", User::KIND, &self.owner)]
    }

    fn unique_claims(&self) -> Vec<UniqueClaim> {
        let value = format!("{}/{}", self.owner, self.name);
        vec![UniqueClaim {
            scope: "application_name",
            value,
            field: "name",
        }]
    }

    fn search_text(&self) -> String {
        format!("{}\n{}\n{}", self.name, self.owner, self.description)
    }
}
