//! Input validation that collects every problem with the field it belongs to, instead of
//! stopping at the first, so an admin fixes a request in one round trip.

use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where the problem is, as a path into the request body (`route.path_prefix`, `groups[1]`).
    pub field: String,
    /// What is wrong, in words an admin can act on.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A collector of [`FieldError`]s with the checks every object shares.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

/// Longest free-text field (descriptions).
pub const MAX_TEXT_LEN: usize = 4000;
/// Longest short text field (display names, owners, emails).
pub const MAX_SHORT_TEXT_LEN: usize = 200;
/// Longest name (slug).
pub const MAX_NAME_LEN: usize = 63;

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records a problem unless `ok` holds.
    pub fn ensure(&mut self, ok: bool, field: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.push(field, message);
        }
    }

    /// A name is a slug: lower-case letters, digits and inner `-`, 1 to 63 characters, so it is
    /// safe in URLs, manifests, metric labels and file names.
    pub fn name(&mut self, field: &str, value: &str) {
        if !is_name(value) {
            self.push(
                field,
                format!(
                    "must be 1 to {MAX_NAME_LEN} characters of lower-case letters, digits and `-`, \
                     starting and ending with a letter or digit"
                ),
            );
        }
    }

    /// Free text: bounded and free of control characters other than newline and tab.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.push(field, format!("must be at most {max} characters"));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            self.push(field, "must not contain control characters");
        }
    }

    /// Each item of a list is unique.
    pub fn unique<'a>(&mut self, field: &str, values: impl IntoIterator<Item = &'a str>) {
        let mut seen = std::collections::BTreeSet::new();
        for (index, value) in values.into_iter().enumerate() {
            if !seen.insert(value) {
                self.push(format!("{field}[{index}]"), format!("`{value}` is listed twice"));
            }
        }
    }

    /// Ends the checks: `Ok` when nothing was recorded.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Whether `value` is a valid name (see [`Checker::name`]).
pub fn is_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}
