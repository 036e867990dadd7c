//! A group: a set of users that access policies grant APIs to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Kind;
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN, MAX_TEXT_LEN};

/// A set of users; membership is kept on each user (`User::groups`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Unique, immutable name (a slug).
    #[schema(example = "partners")]
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
}

impl Kind for Group {
    const KIND: &'static str = "group";
    const LABEL: &'static str = "group";
    type Input = Group;
    type View = Group;

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(group: Group, _previous: Option<&Group>) -> Result<Group, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &group.name);
        checker.text("display_name", &group.display_name, MAX_SHORT_TEXT_LEN);
        checker.text("description", &group.description, MAX_TEXT_LEN);
        checker.finish().map(|()| group)
    }

    fn view(&self) -> Group {
        self.clone()
    }

    fn search_text(&self) -> String {
        format!("{}\n{}", self.display_name, self.description)
    }
}
