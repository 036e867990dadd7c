//! Step 1, route: the host and the longest path prefix pick an API, then its selector picks a
//! version. Refuses paths with dot segments, unknown routes, unselected and retired versions.

use http::Request;
use hyper::body::Incoming;

use crate::compiled::{CompiledSnapshot, VersionChoice};
use crate::refusal::Refusal;
use crate::snapshot::VersionStatus;

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    pub api: usize,
    /// `None` for an API without versions.
    pub version: Option<usize>,
    /// Bytes of the path the API's prefix took.
    pub prefix_len: usize,
    /// Bytes after the prefix that a path-selected version's segment took.
    pub segment_len: usize,
}

pub(super) fn route(snapshot: &CompiledSnapshot, request: &Request<Incoming>) -> Result<Routed, Refusal> {
    let path = request.uri().path();
    if has_dot_segment(path) {
        return Err(Refusal::PathMalformed);
    }
    let host = request_host(request);
    let lower;
    let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = host.to_ascii_lowercase();
        lower.as_str()
    } else {
        host
    };
    let found = snapshot.routes.find(host, path).ok_or(Refusal::RouteNotFound)?;
    let api = &snapshot.apis[found.api];
    let rest = &path[found.prefix_len..];
    let (version, segment_len) = match api.select_version(rest, request.headers(), request.uri().query()) {
        VersionChoice::Unversioned => (None, 0),
        VersionChoice::Version { index, segment_len } => (Some(index), segment_len),
        VersionChoice::NoMatch => {
            return Err(Refusal::VersionNotFound {
                api: api.name.to_string(),
                hint: api.selector_hint(),
            });
        }
    };
    if let Some(index) = version {
        let chosen = &api.versions[index];
        if chosen.status == VersionStatus::Retired {
            return Err(Refusal::VersionRetired {
                api: api.name.to_string(),
                version: chosen.name.to_string(),
                lifecycle: chosen.lifecycle.clone(),
            });
        }
    }
    Ok(Routed {
        api: found.api,
        version,
        prefix_len: found.prefix_len,
        segment_len,
    })
}

/// The request's host without a port: the URI's authority (HTTP/2, absolute-form) or `Host`.
pub(crate) fn request_host(request: &Request<Incoming>) -> &str {
    let host = request
        .uri()
        .host()
        .or_else(|| {
            request
                .headers()
                .get(http::header::HOST)
                .and_then(|value| value.to_str().ok())
        })
        .unwrap_or("");
    match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(']') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether a path has `.` or `..` segments (also percent-encoded), which an upstream might
/// resolve differently than the route did.
fn has_dot_segment(path: &str) -> bool {
    // Most paths have neither a `/.` nor a `%`: two fast scans instead of a split.
    if !path.contains("/.") && !path.contains('%') {
        return false;
    }
    path.split('/').any(|segment| {
        matches!(segment, "." | "..")
            || (segment.len() <= 6 && segment.contains('%') && {
                let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
                decoded == "." || decoded == ".."
            })
    })
}
