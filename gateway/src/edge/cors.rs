//! CORS: which browser origins may call an API, the preflight the gateway answers itself, and
//! the headers added to answers for allowed origins. Every header value is built when the
//! snapshot loads.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request};

use super::Problems;
use crate::snapshot::CorsSpec;

/// Methods a preflight allows when the rule lists none.
const DEFAULT_METHODS: &str = "GET, HEAD, POST";
/// Methods a rule may list.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/// Longest `max_age_seconds`: a day (browsers cap it lower anyway).
pub const MAX_AGE_LIMIT: u32 = 86_400;

/// A compiled CORS rule.
#[derive(Debug)]
pub struct Cors {
    any_origin: bool,
    /// Exact origins, lower case.
    origins: Box<[Box<str>]>,
    credentials: bool,
    allow_methods: HeaderValue,
    allow_headers: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
}

/// What a request is, to CORS.
pub enum Check {
    /// No `Origin`, or an origin the rule does not allow on an actual request: no CORS headers.
    None,
    /// An actual request from an allowed origin: the value of `Access-Control-Allow-Origin`.
    Allowed(HeaderValue),
    /// A preflight from an allowed origin: answer it here.
    Preflight(HeaderValue),
    /// A preflight from an origin the rule does not allow.
    PreflightDenied(String),
}

impl Cors {
    pub(super) fn compile(spec: &CorsSpec, field: &str, problems: &mut Problems) -> Cors {
        let any_origin = spec.allow_origins.iter().any(|origin| origin == "*");
        if spec.allow_origins.is_empty() {
            problems.push(
                format!("{field}.allow_origins"),
                "must list at least one origin, or `*`",
            );
        }
        for (index, origin) in spec.allow_origins.iter().enumerate() {
            if origin != "*" && !is_origin(origin) {
                problems.push(
                    format!("{field}.allow_origins[{index}]"),
                    format!(
                        "`{origin}` is not an origin: `*`, or `http(s)://host[:port]` in lower case, without a path"
                    ),
                );
            }
        }
        if any_origin && spec.allow_credentials {
            problems.push(
                format!("{field}.allow_credentials"),
                "cannot be true when allow_origins has `*`: list the origins that may send credentials",
            );
        }
        for (index, method) in spec.allow_methods.iter().enumerate() {
            if !METHODS.contains(&method.as_str()) {
                problems.push(
                    format!("{field}.allow_methods[{index}]"),
                    format!("`{method}` is not one of {}", METHODS.join(", ")),
                );
            }
        }
        let allow_headers = header_list(&spec.allow_headers, &format!("{field}.allow_headers"), problems);
        let expose_headers = header_list(&spec.expose_headers, &format!("{field}.expose_headers"), problems);
        if spec.max_age_seconds.is_some_and(|age| age > MAX_AGE_LIMIT) {
            problems.push(
                format!("{field}.max_age_seconds"),
                format!("must be at most {MAX_AGE_LIMIT}"),
            );
        }
        let methods = if spec.allow_methods.is_empty() {
            DEFAULT_METHODS.to_owned()
        } else {
            spec.allow_methods.join(", ")
        };
        Cors {
            any_origin,
            origins: spec
                .allow_origins
                .iter()
                .filter(|origin| *origin != "*")
                .map(|origin| origin.to_ascii_lowercase().into())
                .collect(),
            credentials: spec.allow_credentials,
            allow_methods: HeaderValue::try_from(methods).unwrap_or(HeaderValue::from_static(DEFAULT_METHODS)),
            allow_headers,
            expose_headers,
            max_age: spec.max_age_seconds.map(HeaderValue::from),
        }
    }

    /// Classifies a request by its `Origin` and, for `OPTIONS`, `Access-Control-Request-Method`.
    pub fn check<B>(&self, request: &Request<B>) -> Check {
        let Some(origin) = request.headers().get(header::ORIGIN) else {
            return Check::None;
        };
        let preflight = request.method() == Method::OPTIONS
            && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let allowed = self.any_origin
            || origin
                .to_str()
                .is_ok_and(|origin| self.origins.iter().any(|allowed| allowed.eq_ignore_ascii_case(origin)));
        let echo = if self.any_origin && !self.credentials {
            HeaderValue::from_static("*")
        } else {
            origin.clone()
        };
        match (preflight, allowed) {
            (true, true) => Check::Preflight(echo),
            (true, false) => Check::PreflightDenied(String::from_utf8_lossy(origin.as_bytes()).into_owned()),
            (false, true) => Check::Allowed(echo),
            (false, false) => Check::None,
        }
    }

    /// The headers of every answer to an allowed origin, refusals included.
    pub fn decorate(&self, allow_origin: HeaderValue, headers: &mut HeaderMap) {
        if allow_origin != "*" {
            // The answer differs by origin: caches must keep them apart.
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(expose) = &self.expose_headers {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }

    /// The headers of a preflight's answer, beside [`Cors::decorate`]'s.
    pub fn preflight(&self, headers: &mut HeaderMap) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, self.allow_methods.clone());
        if let Some(allow) = &self.allow_headers {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow.clone());
        }
        if let Some(age) = &self.max_age {
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, age.clone());
        }
    }
}

/// `scheme://host[:port]`, lower case, as a browser sends it.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && !origin.bytes().any(|b| b.is_ascii_uppercase())
        && origin
            .parse::<http::Uri>()
            .is_ok_and(|uri| uri.host().is_some_and(|host| !host.is_empty()))
}

/// A list of header names as one comma-separated value, each name checked.
fn header_list(names: &[String], field: &str, problems: &mut Problems) -> Option<HeaderValue> {
    let mut joined = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        match HeaderName::try_from(name.as_str()) {
            Ok(name) => joined.push(name.as_str().to_owned()),
            Err(_) => problems.push(
                format!("{field}[{index}]"),
                format!("`{name}` is not a valid header name"),
            ),
        }
    }
    if joined.is_empty() {
        return None;
    }
    HeaderValue::try_from(joined.join(", ")).ok()
}
