//! An OpenAPI 3 document (3.0 or 3.1, JSON or YAML) read into what an API page shows: each
//! operation's method, path, summary, parameters, request and response schemas and examples.
//! It walks the JSON value rather than a typed model: the typed crates each refuse documents of
//! the other minor version, and a portal must show whatever the hub accepted.

use serde_json::Value;

/// What a page shows of a document.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub title: String,
    pub version: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub id: Option<String>,
    /// Upper case (`GET`).
    pub method: String,
    /// The path template (`/pets/{id}`), relative to the API's prefix and version.
    pub path: String,
    pub summary: String,
    pub description: String,
    pub deprecated: bool,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<Body>,
    pub responses: Vec<Response>,
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    /// `path`, `query`, `header` or `cookie`.
    pub location: String,
    pub required: bool,
    pub description: String,
    /// The schema's `type`, for the try-it input.
    pub kind: String,
    pub example: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Body {
    pub content_type: String,
    pub required: bool,
    /// The schema with its references resolved, pretty-printed.
    pub schema: String,
    pub example: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: String,
    pub description: String,
    pub body: Option<Body>,
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// How deep references are followed when a schema is shown; deeper ones stay `$ref`s.
const MAX_DEPTH: usize = 8;

/// Reads a document; the error says what is wrong with it.
pub fn read(text: &str) -> Result<Document, String> {
    let root = hub::model::api_version::check_openapi_document(text)?;
    let info = root.get("info");
    let text_of = |value: Option<&Value>, key: &str| {
        value
            .and_then(|value| value.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut operations = Vec::new();
    let paths = root.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        let item = resolve(&root, item);
        let shared = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in METHODS {
            let Some(operation) = item.get(method) else { continue };
            operations.push(read_operation(&root, path, method, operation, &shared));
        }
    }
    Ok(Document {
        title: text_of(info, "title"),
        version: text_of(info, "version"),
        description: text_of(info, "description"),
        operations,
    })
}

fn read_operation(root: &Value, path: &str, method: &str, operation: &Value, shared: &[Value]) -> Operation {
    let text = |key: &str| {
        operation
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    // Operation-level parameters override path-level ones of the same name and place.
    let mut parameters: Vec<Parameter> = Vec::new();
    let own = operation
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for parameter in own.iter().chain(shared) {
        let parameter = read_parameter(root, parameter);
        let seen = parameters
            .iter()
            .any(|known| known.name == parameter.name && known.location == parameter.location);
        if !seen && !parameter.name.is_empty() {
            parameters.push(parameter);
        }
    }
    let request_body = operation
        .get("requestBody")
        .map(|body| resolve(root, body))
        .and_then(|body| {
            let required = body.get("required").and_then(Value::as_bool).unwrap_or(false);
            read_body(root, body, required)
        });
    let mut responses = Vec::new();
    if let Some(map) = operation.get("responses").and_then(Value::as_object) {
        for (status, response) in map {
            let response = resolve(root, response);
            responses.push(Response {
                status: status.clone(),
                description: response
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                body: read_body(root, response, false),
            });
        }
    }
    Operation {
        id: operation.get("operationId").and_then(Value::as_str).map(str::to_owned),
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        summary: text("summary"),
        description: text("description"),
        deprecated: operation.get("deprecated").and_then(Value::as_bool).unwrap_or(false),
        parameters,
        request_body,
        responses,
    }
}

fn read_parameter(root: &Value, parameter: &Value) -> Parameter {
    let parameter = resolve(root, parameter);
    let text = |key: &str| {
        parameter
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let schema = parameter.get("schema").map(|schema| resolve(root, schema));
    let kind = schema
        .and_then(|schema| schema.get("type"))
        .and_then(|kind| match kind {
            Value::String(kind) => Some(kind.clone()),
            // 3.1: `type: [integer, "null"]`.
            Value::Array(kinds) => kinds
                .iter()
                .filter_map(Value::as_str)
                .find(|kind| *kind != "null")
                .map(str::to_owned),
            _ => None,
        })
        .unwrap_or_else(|| "string".into());
    let example = parameter
        .get("example")
        .or_else(|| schema.and_then(|schema| schema.get("example")))
        .map(plain);
    let location = text("in");
    Parameter {
        name: text("name"),
        required: parameter
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(location == "path"),
        location,
        description: text("description"),
        kind,
        example,
    }
}

/// The first media type of a request body or response, preferring JSON.
fn read_body(root: &Value, holder: &Value, required: bool) -> Option<Body> {
    let content = holder.get("content")?.as_object()?;
    let (content_type, media) = content
        .iter()
        .find(|(content_type, _)| content_type.contains("json"))
        .or_else(|| content.iter().next())?;
    let schema = media.get("schema").map(|schema| inline(root, schema, 0));
    let example = media
        .get("example")
        .cloned()
        .or_else(|| {
            let examples = media.get("examples")?.as_object()?;
            let first = resolve(root, examples.values().next()?);
            first.get("value").cloned()
        })
        .or_else(|| schema.as_ref().and_then(|schema| schema.get("example").cloned()));
    Some(Body {
        content_type: content_type.clone(),
        required,
        schema: schema.map(|schema| pretty(&schema)).unwrap_or_default(),
        example: example.map(|example| pretty(&example)),
    })
}

/// Follows `$ref`s within the document (`#/components/...`); others are left as they are.
fn resolve<'a>(root: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..MAX_DEPTH {
        let target = value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer));
        match target {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

/// A schema with its references replaced by what they point to, down to [`MAX_DEPTH`].
fn inline(root: &Value, value: &Value, depth: usize) -> Value {
    if depth >= MAX_DEPTH {
        return value.clone();
    }
    let value = resolve(root, value);
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), inline(root, value, depth + 1)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|item| inline(root, item, depth + 1)).collect()),
        other => other.clone(),
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A scalar as text without quotes; anything else as JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r##"
openapi: 3.1.0
info: { title: Pets, version: "2", description: Pets and owners }
paths:
  /pets/{id}:
    parameters:
      - { name: id, in: path, schema: { type: [integer, "null"] } }
    get:
      operationId: getPet
      summary: One pet
      parameters:
        - $ref: "#/components/parameters/Verbose"
      responses:
        "200":
          description: The pet
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
              examples: { rex: { value: { id: 1, name: Rex } } }
    delete:
      operationId: deletePet
      deprecated: true
      responses: { "204": { description: Gone } }
components:
  parameters:
    Verbose: { name: verbose, in: query, schema: { type: boolean, example: true } }
  schemas:
    Pet: { type: object, properties: { id: { type: integer }, owner: { $ref: "#/components/schemas/Owner" } } }
    Owner: { type: object, properties: { name: { type: string } } }
"##;

    #[test]
    fn reads_operations_with_parameters_schemas_and_examples() {
        let document = read(DOCUMENT).unwrap();
        assert_eq!((document.title.as_str(), document.version.as_str()), ("Pets", "2"));
        let ids: Vec<_> = document
            .operations
            .iter()
            .map(|operation| (operation.method.as_str(), operation.id.as_deref()))
            .collect();
        assert_eq!(ids, [("GET", Some("getPet")), ("DELETE", Some("deletePet"))]);
        let get = &document.operations[0];
        let parameters: Vec<_> = get
            .parameters
            .iter()
            .map(|parameter| {
                (
                    parameter.name.as_str(),
                    parameter.location.as_str(),
                    parameter.required,
                    parameter.kind.as_str(),
                )
            })
            .collect();
        assert_eq!(
            parameters,
            [("verbose", "query", false, "boolean"), ("id", "path", true, "integer")]
        );
        assert_eq!(get.parameters[0].example.as_deref(), Some("true"));
        let body = get.responses[0].body.as_ref().unwrap();
        assert_eq!(body.content_type, "application/json");
        assert!(
            body.schema.contains("\"name\""),
            "nested reference inlined: {}",
            body.schema
        );
        assert!(body.example.as_deref().unwrap().contains("Rex"));
        assert!(document.operations[1].deprecated);
    }

    #[test]
    fn a_self_referencing_schema_does_not_loop() {
        let document = r##"{"openapi":"3.0.3","info":{"title":"T","version":"1"},"paths":{"/n":{"get":{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Node"}}}}}}}},
            "components":{"schemas":{"Node":{"type":"object","properties":{"next":{"$ref":"#/components/schemas/Node"}}}}}}"##;
        let read = read(document).unwrap();
        assert!(
            read.operations[0].responses[0]
                .body
                .as_ref()
                .unwrap()
                .schema
                .contains("$ref")
        );
    }

    #[test]
    fn a_broken_document_says_what_is_wrong() {
        assert!(
            read("openapi: 2.0\ninfo: {title: x}\npaths: {}")
                .unwrap_err()
                .contains("OpenAPI 3")
        );
    }
}
