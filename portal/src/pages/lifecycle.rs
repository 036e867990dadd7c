//! A version's lifecycle in words for its API page: when it was (or will be) deprecated and
//! when it goes away, the dates the gateway sends as `Deprecation` and `Sunset`.

use chrono::{DateTime, Utc};

use crate::catalog::VersionEntry;

/// "Version v1 is deprecated since 1 January 2026 and is retired on 1 July 2026 at 00:00 UTC.";
/// `None` when the version carries neither date.
pub(super) fn sentence(version: &VersionEntry, now: DateTime<Utc>) -> Option<String> {
    let date =
        |at: i64| DateTime::from_timestamp(at, 0).map(|at| (at, at.format("%-d %B %Y at %H:%M UTC").to_string()));
    let deprecated = version.deprecated_at.and_then(date).map(|(at, text)| {
        if at > now {
            format!("will be deprecated on {text}")
        } else {
            format!("is deprecated since {text}")
        }
    });
    let sunset = version.sunset_at.and_then(date).map(|(at, text)| {
        if at > now {
            format!("is retired on {text}")
        } else {
            format!("was due to be retired on {text}")
        }
    });
    let said = match (deprecated, sunset) {
        (Some(deprecated), Some(sunset)) => format!("{deprecated} and {sunset}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => return None,
    };
    Some(format!("Version {} {said}.", version.name))
}
