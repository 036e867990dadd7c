//! An operation's request body: present when required, of a media type the operation accepts,
//! and, for JSON, valid against that media type's schema. Only a body that has a schema to be
//! checked against is buffered (up to the API's `max_body_bytes`, or [`super::DEFAULT_BODY_LIMIT`]);
//! every other body streams as before.

use http::HeaderValue;

use super::Violation;
use super::schema::Schema;
use crate::compiled::Problems;
use crate::snapshot::{RequestBodySpec, SchemaDialect};

/// A body's rules, compiled.
#[derive(Debug)]
pub struct CompiledBody {
    required: bool,
    content: Vec<CompiledMediaType>,
    /// The accepted media types, for messages (`application/json, text/plain`).
    accepted: Box<str>,
}

#[derive(Debug)]
struct CompiledMediaType {
    range: MediaType,
    schema: Option<Schema>,
}

/// A media type or range, lower-cased, without parameters: `application/json`, `image/*`, `*/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    kind: Box<str>,
    subtype: Box<str>,
}

/// What to do with a request's body.
#[derive(Debug)]
pub enum BodyCheck<'a> {
    /// Let it stream: nothing to check in it (or the request is refused already).
    Stream,
    /// Buffer it and check it as JSON against this schema.
    Json(&'a Schema),
}

impl MediaType {
    /// Reads a `Content-Type` or a document's media type key; `None` when it is not `type/subtype`.
    pub fn parse(text: &str) -> Option<MediaType> {
        let essence = text.split(';').next()?.trim();
        let (kind, subtype) = essence.split_once('/')?;
        if kind.is_empty() || subtype.is_empty() || subtype.contains('/') {
            return None;
        }
        Some(MediaType {
            kind: kind.to_ascii_lowercase().into(),
            subtype: subtype.to_ascii_lowercase().into(),
        })
    }

    /// `application/json` and the structured `+json` types (`application/merge-patch+json`).
    pub fn is_json(&self) -> bool {
        *self.subtype == *"json" || self.subtype.ends_with("+json")
    }

    /// `*/*`.
    fn is_any(&self) -> bool {
        *self.kind == *"*" && *self.subtype == *"*"
    }

    /// How closely a range matches a type: 2 exact, 1 `type/*`, 0 `*/*`, `None` not at all.
    fn specificity(&self, actual: &MediaType) -> Option<u8> {
        match (&*self.kind, &*self.subtype) {
            ("*", "*") => Some(0),
            (kind, "*") if *kind == *actual.kind => Some(1),
            (kind, subtype) if *kind == *actual.kind && *subtype == *actual.subtype => Some(2),
            _ => None,
        }
    }
}

impl CompiledBody {
    pub(super) fn compile(
        spec: &RequestBodySpec,
        dialect: SchemaDialect,
        components: Option<&serde_json::Value>,
        field: &str,
        problems: &mut Problems,
    ) -> Option<CompiledBody> {
        let mut content = Vec::with_capacity(spec.content.len());
        for (index, media) in spec.content.iter().enumerate() {
            let field = format!("{field}.content[{index}]");
            let Some(range) = MediaType::parse(&media.media_type) else {
                problems.push(
                    format!("{field}.media_type"),
                    format!("`{}` is not a media type", media.media_type),
                );
                continue;
            };
            let schema = media.schema.as_ref().and_then(|schema| {
                Schema::compile(schema, dialect, components)
                    .map_err(|message| problems.push(format!("{field}.schema"), message))
                    .ok()
            });
            content.push(CompiledMediaType { range, schema });
        }
        let accepted = spec
            .content
            .iter()
            .map(|media| media.media_type.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Some(CompiledBody {
            required: spec.required,
            content,
            accepted: accepted.into(),
        })
    }

    /// Checks the body's presence and media type, adding what is wrong to `violations`, and
    /// says whether its content is to be checked.
    pub fn plan(
        &self,
        content_type: Option<&HeaderValue>,
        has_body: bool,
        violations: &mut Vec<Violation>,
    ) -> BodyCheck<'_> {
        if !has_body {
            if self.required {
                violations.push(Violation {
                    pointer: "#/body".into(),
                    detail: format!("a request body is required ({})", self.accepted),
                });
            }
            return BodyCheck::Stream;
        }
        if self.content.is_empty() {
            return BodyCheck::Stream;
        }
        let text = content_type.and_then(|value| value.to_str().ok());
        let Some(actual) = text.and_then(MediaType::parse) else {
            // A body without a type passes only where any type does.
            if !self.content.iter().any(|media| media.range.is_any()) {
                violations.push(Violation {
                    pointer: "#/header/content-type".into(),
                    detail: match text {
                        Some(text) => format!("`{text}` is not a media type; the operation accepts {}", self.accepted),
                        None => format!("a body needs a Content-Type; the operation accepts {}", self.accepted),
                    },
                });
            }
            return BodyCheck::Stream;
        };
        let matched = self
            .content
            .iter()
            .filter_map(|media| media.range.specificity(&actual).map(|rank| (rank, media)))
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, media)| media);
        match matched {
            None => {
                violations.push(Violation {
                    pointer: "#/header/content-type".into(),
                    detail: format!(
                        "`{}/{}` is not a media type the operation accepts ({})",
                        actual.kind, actual.subtype, self.accepted
                    ),
                });
                BodyCheck::Stream
            }
            Some(CompiledMediaType {
                schema: Some(schema), ..
            }) if actual.is_json() => BodyCheck::Json(schema),
            Some(_) => BodyCheck::Stream,
        }
    }
}

/// Checks a buffered JSON body against its schema.
pub fn check_json(schema: &Schema, body: &[u8], violations: &mut Vec<Violation>) {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => schema.check(&value, "#/body", violations),
        Err(error) => violations.push(Violation {
            pointer: "#/body".into(),
            detail: format!("the body is not JSON: {error}"),
        }),
    }
}
