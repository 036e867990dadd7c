//! The mode field the policy and plan forms share: `enforce` (also when left empty) or `shadow`.

use crate::dashboard::form::FieldErrors;
use crate::model::RuleMode;

/// Reads the form's `mode`; anything else is an error on the field, and enforces.
pub fn shadow_mode(errors: &mut FieldErrors, text: &str) -> RuleMode {
    match text.trim() {
        "" | "enforce" => RuleMode::Enforce,
        "shadow" => RuleMode::Shadow,
        other => {
            errors.add("mode", format!("must be enforce or shadow, not `{other}`"));
            RuleMode::Enforce
        }
    }
}
