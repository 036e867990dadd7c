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

// === impl RouteTable ===

/// Routes compiled for lookup: hosts by hash, then the longest matching path prefix.
///
/// A request's host picks one table (exact host, else `*.` wildcard on its parent domain, else
/// the any-host table); within it, the longest prefix that ends on a segment boundary wins.
/// Lookup walks the path's `/` boundaries from the right, one hash probe each, and allocates
/// nothing.
#[derive(Debug, Default)]
pub struct RouteTable {
    exact_hosts: std::collections::HashMap<Box<str>, PrefixTable>,
    wildcard_hosts: std::collections::HashMap<Box<str>, PrefixTable>,
    any_host: PrefixTable,
}

#[derive(Debug, Default)]
struct PrefixTable {
    prefixes: std::collections::HashMap<Box<str>, usize>,
}

/// Where a request was routed: the API's index and how many bytes of the path its prefix took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteMatch {
    pub api: usize,
    pub prefix_len: usize,
}

impl RouteTable {
    /// Adds a route for API `api`; `Err` holds the index of the API that already has it.
    pub fn insert(&mut self, key: &RouteKey, api: usize) -> Result<(), usize> {
        let table = match key.host.as_deref() {
            None => &mut self.any_host,
            Some(host) => match host.strip_prefix("*.") {
                Some(parent) => self.wildcard_hosts.entry(parent.into()).or_default(),
                None => self.exact_hosts.entry(host.into()).or_default(),
            },
        };
        match table.prefixes.entry(key.path_prefix.as_str().into()) {
            std::collections::hash_map::Entry::Occupied(taken) => Err(*taken.get()),
            std::collections::hash_map::Entry::Vacant(free) => {
                free.insert(api);
                Ok(())
            }
        }
    }

    /// Finds the API for a host (lower-case, without port) and a path (without query).
    pub fn find(&self, host: &str, path: &str) -> Option<RouteMatch> {
        if let Some(found) = self.exact_hosts.get(host).and_then(|table| table.find(path)) {
            return Some(found);
        }
        if let Some((_, parent)) = host.split_once('.')
            && let Some(found) = self.wildcard_hosts.get(parent).and_then(|table| table.find(path))
        {
            return Some(found);
        }
        self.any_host.find(path)
    }
}

impl PrefixTable {
    fn find(&self, path: &str) -> Option<RouteMatch> {
        if self.prefixes.is_empty() {
            return None;
        }
        let mut candidate = path
            .strip_suffix('/')
            .filter(|trimmed| !trimmed.is_empty())
            .unwrap_or(path);
        loop {
            if let Some(api) = self.prefixes.get(candidate) {
                let prefix_len = if candidate == "/" { 0 } else { candidate.len() };
                return Some(RouteMatch { api: *api, prefix_len });
            }
            match candidate.rfind('/') {
                Some(0) if candidate.len() > 1 => candidate = "/",
                Some(cut) if cut > 0 => candidate = &candidate[..cut],
                _ => return None,
            }
        }
    }
}
