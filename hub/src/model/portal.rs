//! A developer portal's settings, managed in the hub (and in manifests) rather than in the
//! portal's configuration file: what it is called, what it says to developers, and whether
//! anyone may create an account. A portal process reads the settings named by its `name`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Kind;
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN, MAX_TEXT_LEN};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Portal {
    /// The name a portal process is started with (`[portal] name`, `default` unless set).
    #[schema(example = "default")]
    pub name: String,
    /// Shown in the portal's header and page titles.
    #[serde(default)]
    pub title: String,
    /// Shown on the sign-in page.
    #[serde(default)]
    pub welcome: String,
    /// Whether anyone may create an account; absent leaves it to the portal's configuration.
    #[serde(default)]
    pub self_sign_up: Option<bool>,
}

impl Kind for Portal {
    const KIND: &'static str = "portal";
    const LABEL: &'static str = "portal";
    type Input = Portal;
    type View = Portal;

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(portal: Portal, _previous: Option<&Portal>) -> Result<Portal, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &portal.name);
        checker.text("title", &portal.title, MAX_SHORT_TEXT_LEN);
        checker.text("welcome", &portal.welcome, MAX_TEXT_LEN);
        checker.finish().map(|()| portal)
    }

    fn view(&self) -> Portal {
        self.clone()
    }

    fn search_text(&self) -> String {
        format!("{}\n{}", self.title, self.welcome)
    }
}
