//! Request validation in the snapshot: what an API version's OpenAPI document says its requests
//! look like (operations, their parameters and request bodies, with JSON Schemas). The hub
//! writes it from the document when a version opts in; `validation::CompiledValidation::compile`
//! compiles the schemas when the snapshot loads, and also checks them for the hub.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A version's request rules; its presence turns validation on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationSpec {
    /// The JSON Schema dialect of the schemas, from the document's `openapi` version.
    pub dialect: SchemaDialect,
    /// The document's `components` (only `schemas` matters), which the schemas' `$ref`s
    /// (`#/components/schemas/Pet`) point into; absent when the document has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Value>,
    /// Every operation of the document; a request that matches none is refused.
    pub operations: Vec<ValidatedOperationSpec>,
}

/// Which JSON Schema the schemas are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaDialect {
    /// OpenAPI 3.0's schema object: JSON Schema draft 4 semantics (`exclusiveMinimum` is a
    /// boolean); the hub has already turned `nullable: true` into a `"null"` type.
    #[serde(rename = "openapi_3_0")]
    OpenApi30,
    /// OpenAPI 3.1: JSON Schema 2020-12.
    #[serde(rename = "openapi_3_1")]
    OpenApi31,
}

/// One operation: its method, its path template and what its requests must carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatedOperationSpec {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path template, relative to the API's prefix and version segment (`/pets/{id}`).
    pub path: String,
    /// The `operationId`, for refusals; absent when the document gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Path, query, header and cookie parameters (the path item's and the operation's merged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterSpec>,
    /// The request body; absent when the operation declares none (any body then passes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RequestBodySpec>,
}

/// One parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    pub name: String,
    #[serde(rename = "in")]
    pub location: ParameterLocation,
    /// Path parameters are always required.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The value's schema; absent for a parameter that is only checked for presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// For arrays: one occurrence per item (`?id=1&id=2`, the default for query parameters) or
    /// one comma-separated value (`?id=1,2`, the default elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
}

/// Where a parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterLocation {
    Path,
    Query,
    Header,
    Cookie,
}

impl ParameterLocation {
    /// The name used in a violation's pointer (`#/query/limit`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterLocation::Path => "path",
            ParameterLocation::Query => "query",
            ParameterLocation::Header => "header",
            ParameterLocation::Cookie => "cookie",
        }
    }
}

/// An operation's request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBodySpec {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The media types accepted (`application/json`, `image/*`, `*/*`), each with its schema.
    pub content: Vec<MediaTypeSpec>,
}

/// One accepted media type of a request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaTypeSpec {
    pub media_type: String,
    /// The body's schema; only JSON bodies (`application/json`, `*+json`) are checked against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
}
