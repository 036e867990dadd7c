//! The version form's lifecycle dates: written as RFC 3339 or as a browser's date-time field
//! sends them (`2026-12-31T09:30`, read as UTC), shown back as RFC 3339.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

use crate::dashboard::form::FieldErrors;

/// A stored date as the form shows it.
pub(super) fn date_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The date typed in `field`, `None` when empty; a date that does not parse is an error there.
pub(super) fn parse_date(errors: &mut FieldErrors, field: &str, text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc());
        }
    }
    errors.add(
        field,
        format!("`{text}` is not a date; write it as 2026-12-31T00:00:00Z"),
    );
    None
}
