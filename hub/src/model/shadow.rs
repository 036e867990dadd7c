//! Shadow mode, as the hub's access policies and plans hold it: `mode: enforce | shadow`. What a
//! shadowed rule does at the gateway is `gateway::shadow`'s; what the hub shows of it (who it
//! would have refused) is `domain::shadow`'s.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether an access policy or a plan refuses, or only records what it would refuse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleMode {
    /// Refuses what it does not allow: the default.
    #[default]
    Enforce,
    /// Evaluated on every request, never refuses; would-be refusals are recorded, and shown on
    /// the rule's page and in the impact report of the change that enforces it.
    Shadow,
}

impl RuleMode {
    pub fn is_shadow(self) -> bool {
        self == RuleMode::Shadow
    }

    /// For `skip_serializing_if`: an enforced rule's documents stay as they were.
    pub fn is_enforce(&self) -> bool {
        *self == RuleMode::Enforce
    }

    /// The word in forms and documents.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleMode::Enforce => "enforce",
            RuleMode::Shadow => "shadow",
        }
    }
}
