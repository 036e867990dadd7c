//! Header transforms: remove, rename, then add, on the request going up or the response coming
//! back. Names and values are parsed when the snapshot loads. A rule cannot touch the headers
//! that describe one hop, frame the message, or that the gateway itself sets (forwarding,
//! identity, request id, rate limits, CORS), so a rule can neither hide nor forge them.

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::Problems;
use crate::snapshot::HeaderRulesSpec;

/// Headers no rule may name (lower case).
const RESERVED: [&str; 19] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-request-id",
    "ratelimit",
    "ratelimit-policy",
    "retry-after",
];
/// Prefixes of the gateway's own headers: its identity headers and CORS (set by the CORS rule).
const RESERVED_PREFIXES: [&str; 2] = ["x-gatehouse-", "access-control-"];

/// Why a header name cannot be used in a rule, if it cannot.
pub fn reserved(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if RESERVED[..9].contains(&lower.as_str()) {
        Some("is a hop-by-hop header, which stays on its hop")
    } else if RESERVED[9..].contains(&lower.as_str()) || RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        Some("is set by the gateway itself and cannot be changed by a rule")
    } else {
        None
    }
}

/// A compiled set of header changes.
#[derive(Debug, Default)]
pub struct HeaderRules {
    remove: Box<[HeaderName]>,
    rename: Box<[(HeaderName, HeaderName)]>,
    add: Box<[(HeaderName, HeaderValue)]>,
}

impl HeaderRules {
    /// `None` when the spec changes nothing, so the request path skips it with one branch.
    pub(super) fn compile(spec: &HeaderRulesSpec, field: &str, problems: &mut Problems) -> Option<HeaderRules> {
        if spec.is_empty() {
            return None;
        }
        let remove = spec
            .remove
            .iter()
            .enumerate()
            .filter_map(|(index, name)| checked_name(name, &format!("{field}.remove[{index}]"), problems))
            .collect();
        let rename = spec
            .rename
            .iter()
            .enumerate()
            .filter_map(|(index, rename)| {
                let from = checked_name(&rename.from, &format!("{field}.rename[{index}].from"), problems);
                let to = checked_name(&rename.to, &format!("{field}.rename[{index}].to"), problems);
                Some((from?, to?))
            })
            .collect();
        let add = spec
            .add
            .iter()
            .enumerate()
            .filter_map(|(index, add)| {
                let name = checked_name(&add.name, &format!("{field}.add[{index}].name"), problems);
                let value = match HeaderValue::try_from(add.value.as_str()) {
                    Ok(value) if add.value.len() <= 4096 => Some(value),
                    _ => {
                        problems.push(
                            format!("{field}.add[{index}].value"),
                            "must be at most 4096 visible characters, without control characters",
                        );
                        None
                    }
                };
                Some((name?, value?))
            })
            .collect();
        Some(HeaderRules { remove, rename, add })
    }

    pub fn apply(&self, headers: &mut HeaderMap) {
        for name in &self.remove {
            headers.remove(name);
        }
        for (from, to) in &self.rename {
            if let http::header::Entry::Occupied(entry) = headers.entry(from) {
                let (_, values) = entry.remove_entry_mult();
                let values: Vec<HeaderValue> = values.collect();
                headers.remove(to);
                for value in values {
                    headers.append(to, value);
                }
            }
        }
        for (name, value) in &self.add {
            headers.insert(name, value.clone());
        }
    }
}

fn checked_name(name: &str, field: &str, problems: &mut Problems) -> Option<HeaderName> {
    let Ok(parsed) = HeaderName::try_from(name) else {
        problems.push(field, format!("`{name}` is not a valid header name"));
        return None;
    };
    if let Some(why) = reserved(name) {
        problems.push(field, format!("`{name}` {why}"));
        return None;
    }
    Some(parsed)
}
