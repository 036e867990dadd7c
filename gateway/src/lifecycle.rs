//! Lifecycle signals of an API version: `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and
//! `Link: <…>; rel="successor-version"`, worked out once when the snapshot loads so a request
//! only copies header values. Which version a request reached is the route step's; refusing a
//! retired version is too (it asks [`Lifecycle::successor`] for the 410's words and headers).

use http::header::{HeaderMap, HeaderName, HeaderValue, LINK};

use crate::compiled::Problems;
use crate::route::normalize_path_prefix;
use crate::snapshot::{ApiSpec, SelectorSpec, VersionSpec, VersionStatus};

/// RFC 9745's response header.
pub const DEPRECATION: HeaderName = HeaderName::from_static("deprecation");
/// RFC 8594's response header.
pub const SUNSET: HeaderName = HeaderName::from_static("sunset");

/// One version's signals, ready to copy onto its responses.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    /// `Deprecation` and `Sunset`, when they apply.
    dated: Vec<(HeaderName, HeaderValue)>,
    successor: Option<Successor>,
}

/// The version that replaces this one.
#[derive(Debug, Clone)]
pub struct Successor {
    pub name: Box<str>,
    /// Where a client reaches it: the API's prefix with its path segment or query parameter.
    pub url: Box<str>,
    /// `<url>; rel="successor-version"`.
    pub link: HeaderValue,
}

impl Lifecycle {
    /// The signals of `version` of `api`, or `None` when it sends none (the usual case, which
    /// costs a request one branch). `field` names the version in problems.
    pub(crate) fn compile(
        api: &ApiSpec,
        version: &VersionSpec,
        field: &str,
        problems: &mut Problems,
    ) -> Option<Box<Lifecycle>> {
        let mut dated = Vec::new();
        // A deprecated version without a date is deprecated since an unknown time: any past date
        // says so (RFC 9745 §2.1), and the epoch says it plainly.
        let deprecated_at = match (version.deprecated_at, version.status) {
            (Some(at), _) => Some(at),
            (None, VersionStatus::Deprecated | VersionStatus::Retired) => Some(0),
            (None, VersionStatus::Published) => None,
        };
        if let Some(at) = deprecated_at {
            if at < 0 {
                problems.push(format!("{field}.deprecated_at"), "must be Unix seconds, not negative");
            }
            let value = HeaderValue::try_from(format!("@{at}")).expect("digits are a valid header value");
            dated.push((DEPRECATION, value));
        }
        if let Some(at) = version.sunset_at {
            match http_date(at) {
                Some(date) => dated.push((SUNSET, date)),
                None => problems.push(format!("{field}.sunset_at"), "is not a date a header can carry"),
            }
            if deprecated_at.is_some_and(|deprecated| at < deprecated) {
                problems.push(format!("{field}.sunset_at"), "must not be before `deprecated_at`");
            }
        }
        let successor = version
            .successor
            .as_deref()
            .and_then(|name| successor(api, version, name, &format!("{field}.successor"), problems));
        (!dated.is_empty() || successor.is_some()).then(|| Box::new(Lifecycle { dated, successor }))
    }

    /// Adds the signals to a response of the version. The gateway's dates replace any the
    /// upstream sent, since the hub is where a version's life is decided; the link is added.
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.dated {
            headers.insert(name, value.clone());
        }
        if let Some(successor) = &self.successor {
            headers.append(LINK, successor.link.clone());
        }
    }

    pub fn successor(&self) -> Option<&Successor> {
        self.successor.as_ref()
    }
}

/// The successor named `name`: another version of the same API.
fn successor(
    api: &ApiSpec,
    version: &VersionSpec,
    name: &str,
    field: &str,
    problems: &mut Problems,
) -> Option<Successor> {
    if name == version.name {
        problems.push(field, "a version cannot succeed itself");
        return None;
    }
    let Some(next) = api.versions.iter().find(|candidate| candidate.name == name) else {
        problems.push(field, format!("API `{}` has no version `{name}`", api.name));
        return None;
    };
    let prefix = normalize_path_prefix(&api.path_prefix).unwrap_or_default();
    let base = prefix.trim_end_matches('/');
    // A header selector cannot be written in a URL: such a successor's link is the API's prefix.
    let url = match &next.selector {
        Some(SelectorSpec::Path { segment }) => format!("{base}/{segment}"),
        Some(SelectorSpec::Query { name, value }) => {
            format!("{}?{name}={value}", if base.is_empty() { "/" } else { base })
        }
        Some(SelectorSpec::Header { .. }) | None => if base.is_empty() { "/" } else { base }.to_owned(),
    };
    match HeaderValue::try_from(format!("<{url}>; rel=\"successor-version\"")) {
        Ok(link) => Some(Successor {
            name: name.into(),
            url: url.into(),
            link,
        }),
        Err(_) => {
            problems.push(field, "its URL cannot be carried in a `Link` header");
            None
        }
    }
}

/// An IMF-fixdate (RFC 9110 §5.6.7), as `Sunset` wants.
fn http_date(unix_seconds: i64) -> Option<HeaderValue> {
    let date = chrono::DateTime::from_timestamp(unix_seconds, 0)?;
    HeaderValue::try_from(date.format("%a, %d %b %Y %H:%M:%S GMT").to_string()).ok()
}

#[cfg(test)]
mod tests;
