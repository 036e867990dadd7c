//! Routes: how an API claims traffic (host and path prefix), normalised so that two spellings of
//! the same claim compare equal. Pure functions, no I/O.

use std::fmt;

/// Why a host or path prefix cannot be used in a route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("must start with `/`")]
    PrefixNotAbsolute,
    #[error("must not contain `?`, `#`, `//`, `.` or `..` segments, or characters outside printable ASCII")]
    PrefixMalformed,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must be a DNS name: letters, digits, `-` and `.`, optionally starting with `*.`")]
    HostMalformed,
}

/// The part of the request space an API claims: an optional host and a path prefix.
///
/// Two APIs may not hold the same `RouteKey`; nested prefixes are allowed and resolved by
/// longest match at the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteKey {
    /// Lower-cased host, or `None` for any host.
    pub host: Option<String>,
    /// Normalised prefix: starts with `/`, no trailing `/` unless it is the root.
    pub path_prefix: String,
}

/// Longest accepted host name (RFC 1035).
pub const MAX_HOST_LEN: usize = 253;
/// Longest accepted path prefix.
pub const MAX_PREFIX_LEN: usize = 1024;

impl RouteKey {
    /// Normalises and checks a host and a path prefix.
    pub fn new(host: Option<&str>, path_prefix: &str) -> Result<Self, RouteError> {
        let host = match host {
            None => None,
            Some("") => None,
            Some(host) => Some(normalize_host(host)?),
        };
        Ok(RouteKey {
            host,
            path_prefix: normalize_path_prefix(path_prefix)?,
        })
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.host.as_deref().unwrap_or("*"), self.path_prefix)
    }
}

/// Lower-cases a host and checks it is a DNS name, with an optional leading `*.` wildcard.
pub fn normalize_host(host: &str) -> Result<String, RouteError> {
    if host.len() > MAX_HOST_LEN {
        return Err(RouteError::TooLong { max: MAX_HOST_LEN });
    }
    let host = host.to_ascii_lowercase();
    let bare = host.strip_prefix("*.").unwrap_or(&host);
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if bare.split('.').all(label_ok) {
        Ok(host)
    } else {
        Err(RouteError::HostMalformed)
    }
}

/// Checks a path prefix and removes a trailing `/`, so `/pets/` and `/pets` claim the same routes.
pub fn normalize_path_prefix(prefix: &str) -> Result<String, RouteError> {
    if prefix.len() > MAX_PREFIX_LEN {
        return Err(RouteError::TooLong { max: MAX_PREFIX_LEN });
    }
    if !prefix.starts_with('/') {
        return Err(RouteError::PrefixNotAbsolute);
    }
    let printable = prefix.bytes().all(|b| b.is_ascii_graphic());
    let trimmed = if prefix.len() > 1 {
        prefix.trim_end_matches('/')
    } else {
        prefix
    };
    let has_bad_segment = trimmed.len() > 1
        && trimmed[1..]
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..");
    if !printable || prefix.contains(['?', '#']) || has_bad_segment {
        return Err(RouteError::PrefixMalformed);
    }
    Ok(if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    })
}

#[cfg(test)]
mod tests;
