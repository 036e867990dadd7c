//! A gateway: one data-plane instance known to the hub. Its live status (heartbeat, applied
//! revision) arrives with the control loop; here it is registered and described.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Kind;
use super::api::check_tags;
use crate::validate::{Checker, FieldError, MAX_TEXT_LEN};

/// A registered gateway instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Unique, immutable name (a slug).
    #[schema(example = "edge-eu-1")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Free labels (region, environment).
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Kind for Gateway {
    const KIND: &'static str = "gateway";
    const LABEL: &'static str = "gateway";
    type Input = Gateway;
    type View = Gateway;

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(gateway: Gateway, _previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &gateway.name);
        checker.text("description", &gateway.description, MAX_TEXT_LEN);
        check_tags(&mut checker, &gateway.tags);
        checker.finish().map(|()| gateway)
    }

    fn view(&self) -> Gateway {
        self.clone()
    }

    fn labels(&self) -> Vec<String> {
        self.tags.iter().map(|tag| format!("tag:{tag}")).collect()
    }

    fn search_text(&self) -> String {
        format!("{}\n{}", self.description, self.tags.join(" "))
    }
}
