//! Form input and its errors: every field arrives as text (so a wrong type is a message next to
//! the field, not a rejected request), and the domain's field errors are placed next to the
//! inputs they belong to, with what the admin typed kept.

use std::collections::BTreeMap;

use crate::error::HubError;
use crate::validate::FieldError;

use super::error::DashboardError;

/// Messages by form field; `general` holds what belongs to no one field.
#[derive(Debug, Default)]
pub struct FieldErrors {
    fields: BTreeMap<String, String>,
    pub general: Vec<String>,
}

impl FieldErrors {
    /// The message for a field, if any.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        self.fields
            .entry(field.to_owned())
            .and_modify(|existing| {
                existing.push_str("; ");
                existing.push_str(&message);
            })
            .or_insert(message);
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Every message, for the summary at the top of the form.
    pub fn count(&self) -> usize {
        self.fields.len() + self.general.len()
    }

    /// Places the domain's errors: `place` maps a field path of the model (`route.path_prefix`)
    /// to the form's input (`path_prefix`), or `None` for the summary.
    pub fn from_domain(problems: &[FieldError], place: impl Fn(&str) -> Option<&'static str>) -> FieldErrors {
        let mut errors = FieldErrors::default();
        for problem in problems {
            match place(&problem.field) {
                Some(field) => errors.add(field, problem.message.clone()),
                None => errors.general.push(format!("{}: {}", problem.field, problem.message)),
            }
        }
        errors
    }
}

/// What a failed save becomes: field errors to show on the form again, or an error page.
pub enum Refused {
    Form(FieldErrors),
    Page(DashboardError),
}

impl Refused {
    /// Sorts a domain error: invalid input and conflicts go back to the form.
    pub fn from_hub(error: HubError, place: impl Fn(&str) -> Option<&'static str>) -> Refused {
        match error {
            HubError::Invalid(problems) => Refused::Form(FieldErrors::from_domain(&problems, place)),
            HubError::Conflict { detail } => {
                let mut errors = FieldErrors::default();
                errors.general.push(detail);
                Refused::Form(errors)
            }
            other => Refused::Page(other.into()),
        }
    }
}

/// The first segment of a field path: `route.path_prefix` → `route`, `groups[1]` → `groups`.
pub fn head(field: &str) -> &str {
    field.split(['.', '[']).next().unwrap_or(field)
}

/// Splits a comma- or whitespace-separated list, dropping empty entries.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses a whole number, or says why not in the form's words.
pub fn number(errors: &mut FieldErrors, field: &str, text: &str) -> Option<u64> {
    match text.trim().replace(['_', ','], "").parse::<u64>() {
        Ok(value) => Some(value),
        Err(_) => {
            errors.add(field, format!("must be a whole number, not `{}`", text.trim()));
            None
        }
    }
}

/// A form body where a field may repeat (`groups=a&groups=b`, one per ticked box), which
/// axum's own `Form` cannot read into a `Vec`.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Form<T> {
    type Rejection = DashboardError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|error| DashboardError::Invalid(format!("the form could not be read: {error}")))?;
        serde_html_form::from_bytes(&bytes)
            .map(Form)
            .map_err(|error| DashboardError::Invalid(format!("the form could not be read: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_domain_errors_next_to_their_inputs() {
        let problems = vec![
            FieldError::new("route.path_prefix", "must start with `/`"),
            FieldError::new("other", "is odd"),
        ];
        let errors = FieldErrors::from_domain(&problems, |field| {
            (field == "route.path_prefix").then_some("path_prefix")
        });
        assert_eq!(errors.of("path_prefix"), Some("must start with `/`"));
        assert_eq!(errors.general, vec!["other: is odd".to_owned()]);
    }

    #[test]
    fn numbers_refuse_words_with_the_text_quoted() {
        let mut errors = FieldErrors::default();
        assert_eq!(number(&mut errors, "requests", "2,000"), Some(2000));
        assert_eq!(number(&mut errors, "requests", "lots"), None);
        assert_eq!(errors.of("requests"), Some("must be a whole number, not `lots`"));
    }
}
