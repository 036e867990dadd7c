//! One API compiled: its versions and how a request selects one, its operations, its
//! credentials, and the rules attached to it.

use std::collections::HashMap;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::Problems;
use crate::access::{MethodSet, Rule};
use crate::lifecycle::Lifecycle;
use crate::route::normalize_path_prefix;
use crate::snapshot::{ApiSpec, OperationSpec, SelectorSpec, VersionSpec, VersionStatus};
use crate::upstream::{PoolCache, Upstream};

/// An API ready for requests.
#[derive(Debug)]
pub struct CompiledApi {
    pub name: Arc<str>,
    /// The normalised prefix (`/` or `/pets`).
    pub prefix: Box<str>,
    pub strip_prefix: bool,
    pub upstream: Arc<Upstream>,
    pub versions: Vec<CompiledVersion>,
    path_versions: HashMap<Box<str>, usize>,
    header_versions: Vec<(HeaderName, HeaderValue, usize)>,
    query_versions: Vec<(Box<str>, Box<str>, usize)>,
    default_version: Option<usize>,
    /// Header that carries an API key.
    pub api_key_header: HeaderName,
    /// Query parameter that may carry an API key.
    pub api_key_query: Option<Box<str>>,
    pub accepts_jwt: bool,
    /// A verified client certificate registered to a consumer authenticates (consumer mTLS).
    pub accepts_client_certificate: bool,
    /// Access rules for this API, in snapshot order.
    pub rules: Vec<Rule>,
    /// Whether any rule names operations, so requests must be matched to one.
    pub names_operations: bool,
    /// CORS, IP lists, body limit, transforms, rewrite; `None` for an API without edge rules.
    pub edge: Option<Box<crate::edge::CompiledEdge>>,
    /// Plain-HTTP requests get a 308 to https (`tls`).
    pub https_redirect: bool,
}

/// One version ready for requests.
#[derive(Debug)]
pub struct CompiledVersion {
    pub name: Arc<str>,
    pub status: VersionStatus,
    pub upstream: Option<Arc<Upstream>>,
    /// Operations, literal paths before templated ones.
    pub operations: Vec<Operation>,
    /// `Deprecation`, `Sunset` and the successor's `Link`; `None` for a version that sends none.
    pub lifecycle: Option<Box<Lifecycle>>,
    /// Request validation against the OpenAPI document; `None` for a version that does not opt in.
    pub validation: Option<Box<crate::validation::CompiledValidation>>,
}

/// An operation's method and path template, for matching requests to operation ids.
#[derive(Debug)]
pub struct Operation {
    pub id: Arc<str>,
    pub method: MethodSet,
    segments: Box<[Segment]>,
}

#[derive(Debug)]
enum Segment {
    Literal(Box<str>),
    Parameter,
}

/// Which version a request selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionChoice {
    /// The API has no versions.
    Unversioned,
    /// This version; `segment_len` bytes of the path after the prefix were its path segment.
    Version { index: usize, segment_len: usize },
    /// The API has versions and none matched.
    NoMatch,
}

impl CompiledApi {
    pub(super) fn compile(
        spec: &ApiSpec,
        field: &str,
        pools: Option<&PoolCache>,
        problems: &mut Problems,
    ) -> CompiledApi {
        let upstream = Arc::new(Upstream::compile(
            &spec.upstream,
            &format!("{field}.upstream"),
            pools,
            problems,
        ));
        let mut api = CompiledApi {
            name: spec.name.as_str().into(),
            prefix: normalize_path_prefix(&spec.path_prefix).unwrap_or_default().into(),
            strip_prefix: spec.strip_prefix,
            upstream,
            versions: Vec::with_capacity(spec.versions.len()),
            path_versions: HashMap::new(),
            header_versions: Vec::new(),
            query_versions: Vec::new(),
            default_version: None,
            api_key_header: HeaderName::from_static("x-api-key"),
            api_key_query: spec.authentication.api_key_query.as_deref().map(Into::into),
            accepts_jwt: spec.authentication.jwt,
            accepts_client_certificate: spec.authentication.client_certificate,
            rules: Vec::new(),
            names_operations: false,
            edge: crate::edge::CompiledEdge::compile(spec.edge.as_ref(), &format!("{field}.edge"), problems),
            https_redirect: spec.https_redirect,
        };
        match HeaderName::try_from(spec.authentication.api_key_header.as_str()) {
            Ok(name) => api.api_key_header = name,
            Err(_) => problems.push(
                format!("{field}.authentication.api_key_header"),
                "is not a valid header name",
            ),
        }
        for (index, version) in spec.versions.iter().enumerate() {
            let version_field = format!("{field}.versions[{index}]");
            if api.versions.iter().any(|known| *known.name == version.name) {
                problems.push(
                    format!("{version_field}.name"),
                    format!("version `{}` is listed twice", version.name),
                );
            }
            api.add_selector(version, index, &version_field, problems);
            let mut compiled = CompiledVersion::compile(version, &version_field, pools, problems);
            compiled.lifecycle = Lifecycle::compile(spec, version, &version_field, problems);
            api.versions.push(compiled);
        }
        api
    }

    fn add_selector(&mut self, version: &VersionSpec, index: usize, field: &str, problems: &mut Problems) {
        let taken = |problems: &mut Problems| {
            problems.push(format!("{field}.selector"), "another version has the same selector")
        };
        match &version.selector {
            None if self.default_version.is_some() => problems.push(
                format!("{field}.selector"),
                "only one version may be the default (no selector)",
            ),
            None => self.default_version = Some(index),
            Some(SelectorSpec::Path { segment }) => {
                if segment.is_empty() || segment.contains('/') {
                    problems.push(
                        format!("{field}.selector.segment"),
                        "must be one non-empty path segment",
                    );
                } else if self.path_versions.insert(segment.as_str().into(), index).is_some() {
                    taken(problems);
                }
            }
            Some(SelectorSpec::Header { name, value }) => match (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                (Ok(name), Ok(value)) if !self.header_versions.iter().any(|(n, v, _)| *n == name && *v == value) => {
                    self.header_versions.push((name, value, index))
                }
                (Ok(_), Ok(_)) => taken(problems),
                _ => problems.push(format!("{field}.selector"), "is not a valid header name and value"),
            },
            Some(SelectorSpec::Query { name, value }) => {
                if self
                    .query_versions
                    .iter()
                    .any(|(n, v, _)| **n == *name && **v == *value)
                {
                    taken(problems);
                }
                self.query_versions
                    .push((name.as_str().into(), value.as_str().into(), index));
            }
        }
    }

    /// Picks the version for a request: a path segment first, then a header, then a query
    /// parameter, then the default version. `rest` is the path after the API's prefix.
    pub fn select_version(&self, rest: &str, headers: &HeaderMap, query: Option<&str>) -> VersionChoice {
        if self.versions.is_empty() {
            return VersionChoice::Unversioned;
        }
        if !self.path_versions.is_empty() {
            let trimmed = rest.strip_prefix('/').unwrap_or(rest);
            let segment = trimmed.split('/').next().unwrap_or("");
            if let Some(index) = self.path_versions.get(segment) {
                let segment_len = segment.len() + usize::from(rest.starts_with('/'));
                return VersionChoice::Version {
                    index: *index,
                    segment_len,
                };
            }
        }
        for (name, value, index) in &self.header_versions {
            if headers.get(name) == Some(value) {
                return VersionChoice::Version {
                    index: *index,
                    segment_len: 0,
                };
            }
        }
        if let Some(query) = query.filter(|_| !self.query_versions.is_empty()) {
            for pair in query.split('&') {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                if let Some((_, _, index)) = self
                    .query_versions
                    .iter()
                    .find(|(n, v, _)| **n == *name && **v == *value)
                {
                    return VersionChoice::Version {
                        index: *index,
                        segment_len: 0,
                    };
                }
            }
        }
        match self.default_version {
            Some(index) => VersionChoice::Version { index, segment_len: 0 },
            None => VersionChoice::NoMatch,
        }
    }

    /// Whether a query parameter is the gateway's (the API key's, a version selector's), not
    /// the upstream's: request validation does not ask the document about it.
    pub fn is_gateway_query(&self, name: &str) -> bool {
        self.api_key_query.as_deref() == Some(name) || self.query_versions.iter().any(|(known, _, _)| **known == *name)
    }

    /// How a client selects each version, for the explanation of a miss.
    pub fn selector_hint(&self) -> String {
        let mut hints: Vec<String> = self
            .path_versions
            .keys()
            .map(|segment| format!("{}/{segment}", self.prefix.trim_end_matches('/')))
            .collect();
        hints.sort();
        hints.extend(
            self.header_versions
                .iter()
                .map(|(name, value, _)| format!("header {name}: {}", value.to_str().unwrap_or("?"))),
        );
        hints.extend(
            self.query_versions
                .iter()
                .map(|(name, value, _)| format!("?{name}={value}")),
        );
        hints.join(", ")
    }
}

impl CompiledVersion {
    fn compile(spec: &VersionSpec, field: &str, pools: Option<&PoolCache>, problems: &mut Problems) -> CompiledVersion {
        let upstream = spec.upstream.as_ref().map(|upstream| {
            Arc::new(Upstream::compile(
                upstream,
                &format!("{field}.upstream"),
                pools,
                problems,
            ))
        });
        let mut operations: Vec<Operation> = spec
            .operations
            .iter()
            .enumerate()
            .filter_map(|(index, operation)| {
                Operation::compile(operation, &format!("{field}.operations[{index}]"), problems)
            })
            .collect();
        // Literal paths win over templates, as OpenAPI asks (`/pets/mine` before `/pets/{id}`).
        operations.sort_by_key(|operation| {
            operation
                .segments
                .iter()
                .filter(|s| matches!(s, Segment::Parameter))
                .count()
        });
        CompiledVersion {
            name: spec.name.as_str().into(),
            status: spec.status,
            upstream,
            operations,
            lifecycle: None,
            validation: spec.validation.as_ref().map(|validation| {
                Box::new(crate::validation::CompiledValidation::compile(
                    validation,
                    &format!("{field}.validation"),
                    problems,
                ))
            }),
        }
    }

    /// The operation a request matches; `path` is relative to the prefix and version segment.
    pub fn operation(&self, method: MethodSet, path: &str) -> Option<&Operation> {
        self.operation_index(method, path).map(|index| &self.operations[index])
    }

    /// The index in `operations` of the operation a request matches.
    pub fn operation_index(&self, method: MethodSet, path: &str) -> Option<usize> {
        self.operations
            .iter()
            .position(|operation| operation.method == method && operation.matches(path))
    }
}

impl Operation {
    fn compile(spec: &OperationSpec, field: &str, problems: &mut Problems) -> Option<Operation> {
        let method = MethodSet::parse([spec.method.to_ascii_uppercase().as_str()]).ok();
        if method.is_none() {
            problems.push(
                format!("{field}.method"),
                format!("`{}` is not an HTTP method", spec.method),
            );
        }
        if !spec.path.starts_with('/') {
            problems.push(format!("{field}.path"), "must start with `/`");
            return None;
        }
        let segments = spec.path[1..]
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') && segment.ends_with('}') {
                    Segment::Parameter
                } else {
                    Segment::Literal(segment.into())
                }
            })
            .collect();
        Some(Operation {
            id: spec.id.as_str().into(),
            method: method?,
            segments,
        })
    }

    fn matches(&self, path: &str) -> bool {
        let path = path.strip_prefix('/').unwrap_or(path);
        let mut parts = path.split('/');
        for segment in self.segments.iter() {
            match (segment, parts.next()) {
                (Segment::Literal(literal), Some(part)) if **literal == *part => {}
                (Segment::Parameter, Some(part)) if !part.is_empty() => {}
                _ => return false,
            }
        }
        parts.next().is_none()
    }
}
