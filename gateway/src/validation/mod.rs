//! Request validation: a version that opts in has every request checked against its OpenAPI
//! document before it reaches the upstream (path, query, header and cookie parameters, and a
//! JSON body against its schema). The schemas are compiled once, when the snapshot loads
//! ([`CompiledValidation::compile`]); a request costs a path match, a few string conversions
//! and the schema checks themselves. Violations are listed with a JSON pointer each into the
//! request seen as a document: `#/path/id`, `#/query/limit`, `#/header/x-trace`,
//! `#/cookie/session`, `#/body/name`.

mod body;
mod parameters;
mod schema;

use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};

pub use body::{BodyCheck, MediaType, check_json};

use crate::access::{METHODS, MethodSet};
use crate::compiled::Problems;
use crate::snapshot::{ParameterLocation, ValidatedOperationSpec, ValidationSpec};
use parameters::ValueKind;
use schema::Schema;

/// At most this many violations are listed in one refusal; the rest are counted.
pub const MAX_LISTED: usize = 20;
/// The largest JSON body buffered to be checked when the API sets no `max_body_bytes`.
pub const DEFAULT_BODY_LIMIT: u64 = 1024 * 1024;

/// One way a request breaks its document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// Where, as a JSON pointer into the request (`#/query/limit`, `#/body/tags/0`).
    pub pointer: String,
    /// What is wrong, in words.
    pub detail: String,
}

/// A version's operations, ready to check requests.
#[derive(Debug)]
pub struct CompiledValidation {
    /// Literal paths before templated ones, as OpenAPI asks (`/pets/mine` before `/pets/{id}`).
    operations: Vec<ValidatedOperation>,
}

/// One operation's rules.
#[derive(Debug)]
pub struct ValidatedOperation {
    method: MethodSet,
    /// The `operationId`, or `METHOD /path` when the document gives none.
    pub name: Arc<str>,
    segments: Box<[PathSegment]>,
    parameters: Vec<Parameter>,
    /// The request body's rules; `None` when the operation declares none.
    pub body: Option<body::CompiledBody>,
}

#[derive(Debug)]
enum PathSegment {
    Literal(Box<str>),
    /// `{name}`: a path parameter.
    Parameter(Box<str>),
    /// A segment that mixes text and a template (`{name}.json`): any non-empty text.
    Pattern,
}

#[derive(Debug)]
struct Parameter {
    name: Box<str>,
    location: ParameterLocation,
    /// For header parameters, the name as a header.
    header: Option<HeaderName>,
    /// For path parameters, the index of their segment in the template.
    segment: Option<usize>,
    required: bool,
    explode: bool,
    kind: ValueKind,
    schema: Option<Schema>,
}

/// Which operation a request is.
#[derive(Debug)]
pub enum OperationMatch<'a> {
    Found(&'a ValidatedOperation),
    /// The path is the document's, the method is not: the methods it has, for `Allow`.
    MethodNotAllowed(HeaderValue),
    NotFound,
}

/// The parts of a request the parameters are read from.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// Relative to the API's prefix and version segment, starting with `/`.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// The API, whose own query parameters (an API key's, a version selector's) the document
    /// need not declare; `None` for none.
    pub api: Option<&'a crate::compiled::CompiledApi>,
}

impl CompiledValidation {
    /// Compiles a version's rules; every schema that does not compile is a problem at `field`.
    pub(crate) fn compile(spec: &ValidationSpec, field: &str, problems: &mut Problems) -> CompiledValidation {
        let components = spec.components.as_ref();
        let mut operations: Vec<ValidatedOperation> = spec
            .operations
            .iter()
            .enumerate()
            .filter_map(|(index, operation)| {
                let field = format!("{field}.operations[{index}]");
                ValidatedOperation::compile(operation, spec.dialect, components, &field, problems)
            })
            .collect();
        operations.sort_by_key(|operation| {
            operation
                .segments
                .iter()
                .filter(|segment| !matches!(segment, PathSegment::Literal(_)))
                .count()
        });
        CompiledValidation { operations }
    }

    /// Compiles rules only to know whether they compile, as the hub asks before storing them:
    /// the first problem, with its field relative to the rules (`operations[2].body…`).
    pub fn check(spec: &ValidationSpec) -> Result<(), (String, String)> {
        let mut problems = Problems::default();
        CompiledValidation::compile(spec, "", &mut problems);
        match problems.0.into_iter().next() {
            None => Ok(()),
            Some(problem) => Err((problem.field.trim_start_matches('.').to_owned(), problem.message)),
        }
    }

    /// The operation a request is, or why it is none.
    pub fn find(&self, method: &str, path: &str) -> OperationMatch<'_> {
        let bit = MethodSet::bit(method);
        let mut allowed = MethodSet::EMPTY;
        for operation in &self.operations {
            if operation.matches(path) {
                if operation.method == bit && bit != MethodSet::EMPTY {
                    return OperationMatch::Found(operation);
                }
                allowed = allowed.union(operation.method);
            }
        }
        if allowed == MethodSet::EMPTY {
            return OperationMatch::NotFound;
        }
        let names: Vec<&str> = METHODS
            .iter()
            .copied()
            .filter(|name| allowed.contains(MethodSet::bit(name)))
            .collect();
        OperationMatch::MethodNotAllowed(HeaderValue::try_from(names.join(", ")).expect("method names are header-safe"))
    }
}

impl ValidatedOperation {
    fn compile(
        spec: &ValidatedOperationSpec,
        dialect: crate::snapshot::SchemaDialect,
        components: Option<&serde_json::Value>,
        field: &str,
        problems: &mut Problems,
    ) -> Option<ValidatedOperation> {
        let upper = spec.method.to_ascii_uppercase();
        let Ok(method) = MethodSet::parse([upper.as_str()]) else {
            problems.push(
                format!("{field}.method"),
                format!("`{}` is not an HTTP method", spec.method),
            );
            return None;
        };
        let Some(template) = spec.path.strip_prefix('/') else {
            problems.push(format!("{field}.path"), "must start with `/`");
            return None;
        };
        let mut parameters = Vec::with_capacity(spec.parameters.len());
        for (index, parameter) in spec.parameters.iter().enumerate() {
            let field = format!("{field}.parameters[{index}]");
            let header = match parameter.location {
                ParameterLocation::Header => match HeaderName::try_from(parameter.name.as_str()) {
                    Ok(name) => Some(name),
                    Err(_) => {
                        problems.push(format!("{field}.name"), "is not a valid header name");
                        continue;
                    }
                },
                _ => None,
            };
            let schema = parameter.schema.as_ref().and_then(|value| {
                Schema::compile(value, dialect, components)
                    .map_err(|message| problems.push(format!("{field}.schema"), message))
                    .ok()
            });
            parameters.push(Parameter {
                name: parameter.name.as_str().into(),
                location: parameter.location,
                header,
                segment: None,
                required: parameter.required || parameter.location == ParameterLocation::Path,
                explode: parameter
                    .explode
                    .unwrap_or(parameter.location == ParameterLocation::Query),
                kind: parameter
                    .schema
                    .as_ref()
                    .map_or(ValueKind::String, |schema| ValueKind::of(schema, components)),
                schema,
            });
        }
        let segments: Box<[PathSegment]> = template
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
                    Some(name) if !name.contains(['{', '}']) => PathSegment::Parameter(name.into()),
                    _ if segment.contains('{') => PathSegment::Pattern,
                    _ => PathSegment::Literal(segment.into()),
                },
            )
            .collect();
        for parameter in parameters.iter_mut().filter(|p| p.location == ParameterLocation::Path) {
            parameter.segment = segments
                .iter()
                .position(|segment| matches!(segment, PathSegment::Parameter(name) if *name == parameter.name));
        }
        // A path parameter the template does not name can never be given: it is not checked.
        parameters.retain(|parameter| parameter.location != ParameterLocation::Path || parameter.segment.is_some());
        let body = spec.body.as_ref().and_then(|body| {
            body::CompiledBody::compile(body, dialect, components, &format!("{field}.body"), problems)
        });
        Some(ValidatedOperation {
            method,
            name: spec
                .id
                .clone()
                .unwrap_or_else(|| format!("{} {}", spec.method.to_ascii_uppercase(), spec.path))
                .into(),
            segments,
            parameters,
            body,
        })
    }

    fn matches(&self, path: &str) -> bool {
        let path = path.strip_prefix('/').unwrap_or(path);
        let mut parts = path.split('/');
        for segment in self.segments.iter() {
            match (segment, parts.next()) {
                (PathSegment::Literal(literal), Some(part)) if **literal == *part => {}
                (PathSegment::Parameter(_) | PathSegment::Pattern, Some(part)) if !part.is_empty() => {}
                _ => return false,
            }
        }
        parts.next().is_none()
    }

    /// A query parameter the operation does not declare is refused: what the upstream would do
    /// with it is unknown, and a typo (`?limt=5`) is better told than ignored.
    fn check_unknown_query(&self, request: &RequestParts<'_>, violations: &mut Vec<Violation>) {
        let Some(query) = request.query else {
            return;
        };
        let mut reported: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        for (name, _) in form_urlencoded::parse(query.as_bytes()) {
            let declared = self
                .parameters
                .iter()
                .any(|parameter| parameter.location == ParameterLocation::Query && *parameter.name == *name);
            if declared || request.api.is_some_and(|api| api.is_gateway_query(&name)) || reported.contains(&name) {
                continue;
            }
            violations.push(Violation {
                pointer: format!("#/query/{}", schema::escape_pointer(&name)),
                detail: format!("`{name}` is not a query parameter of operation `{}`", self.name),
            });
            reported.push(name);
        }
    }

    /// Checks the request's parameters, adding what is wrong to `violations`.
    pub fn check_parameters(&self, request: &RequestParts<'_>, violations: &mut Vec<Violation>) {
        self.check_unknown_query(request, violations);
        if self.parameters.is_empty() {
            return;
        }
        let path = request.path.strip_prefix('/').unwrap_or(request.path);
        let path_values: Vec<&str> = path.split('/').collect();
        for parameter in &self.parameters {
            let raw: Vec<std::borrow::Cow<'_, str>> = match parameter.location {
                ParameterLocation::Path => parameter
                    .segment
                    .and_then(|index| path_values.get(index))
                    .map(|value| parameters::percent_decoded(value))
                    .into_iter()
                    .collect(),
                ParameterLocation::Query => request
                    .query
                    .map(|query| {
                        form_urlencoded::parse(query.as_bytes())
                            .filter(|(name, _)| *name == *parameter.name)
                            .map(|(_, value)| value)
                            .collect()
                    })
                    .unwrap_or_default(),
                ParameterLocation::Header => parameter
                    .header
                    .as_ref()
                    .map(|name| {
                        request
                            .headers
                            .get_all(name)
                            .iter()
                            .map(|value| String::from_utf8_lossy(value.as_bytes()))
                            .collect()
                    })
                    .unwrap_or_default(),
                ParameterLocation::Cookie => parameters::cookies(request.headers, &parameter.name),
            };
            let pointer = || {
                format!(
                    "#/{}/{}",
                    parameter.location.as_str(),
                    schema::escape_pointer(&parameter.name)
                )
            };
            if raw.is_empty() {
                if parameter.required {
                    violations.push(Violation {
                        pointer: pointer(),
                        detail: format!(
                            "the {} parameter `{}` is required",
                            parameter.location.as_str(),
                            parameter.name
                        ),
                    });
                }
                continue;
            }
            // A single value given more than once is ambiguous (frameworks read the first, or the
            // last, or both): refused rather than guessed.
            if raw.len() > 1 && !matches!(parameter.kind, ValueKind::Array(_)) {
                violations.push(Violation {
                    pointer: pointer(),
                    detail: format!(
                        "the {} parameter `{}` is given {} times; it takes one value",
                        parameter.location.as_str(),
                        parameter.name,
                        raw.len()
                    ),
                });
                continue;
            }
            let Some(schema) = &parameter.schema else {
                continue;
            };
            let Some(value) = parameter.kind.coerce(&raw, parameter.explode) else {
                continue;
            };
            schema.check(&value, &pointer(), violations);
        }
    }
}

#[cfg(test)]
mod tests;
