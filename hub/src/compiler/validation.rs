//! Request validation from an OpenAPI 3 document: every operation with its parameters (the path
//! item's and the operation's, `$ref`s to `components` resolved) and its request body, in the
//! snapshot's `validation` shape. Schemas keep their `$ref`s into `components.schemas`, which
//! travel beside them; OpenAPI 3.0's `nullable` becomes a `"null"` type, so the gateway checks
//! plain JSON Schema. The gateway compiles the result (`gateway::validation`), and the hub asks
//! the same compiler whether it compiles before anything is stored.

use gateway::snapshot::{
    MediaTypeSpec, ParameterLocation, ParameterSpec, RequestBodySpec, SchemaDialect, ValidatedOperationSpec,
    ValidationSpec,
};
use serde_json::{Map, Value};

use crate::model::api_version::check_openapi_document;

const METHODS: [&str; 7] = ["get", "head", "post", "put", "patch", "delete", "options"];

/// The validation rules of a document; the error names what in it cannot be used.
pub fn validation(document: &str) -> Result<ValidationSpec, String> {
    let document = check_openapi_document(document).map_err(|message| format!("openapi {message}"))?;
    let openapi = document.get("openapi").and_then(Value::as_str).unwrap_or("3.0");
    let dialect = if openapi.starts_with("3.0") {
        SchemaDialect::OpenApi30
    } else {
        SchemaDialect::OpenApi31
    };
    let schemas = |value: &Value| match dialect {
        SchemaDialect::OpenApi30 => nullable_to_type(value),
        SchemaDialect::OpenApi31 => value.clone(),
    };
    let components = document.pointer("/components/schemas").map(|found| {
        let found = match dialect {
            SchemaDialect::OpenApi30 => schema_map(found),
            SchemaDialect::OpenApi31 => found.clone(),
        };
        Value::Object(Map::from_iter([("schemas".to_owned(), found)]))
    });
    let mut operations = Vec::new();
    let empty = Map::new();
    let paths = document.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    let mut path_names: Vec<&String> = paths.keys().collect();
    path_names.sort();
    for path in path_names {
        let item = &paths[path];
        let shared = item.get("parameters");
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let at = format!("paths.{path}.{method}");
            let mut parameters: Vec<ParameterSpec> = Vec::new();
            // The operation's parameters override the path item's of the same name and place.
            for (list, list_at) in [
                (shared, format!("paths.{path}.parameters")),
                (operation.get("parameters"), format!("{at}.parameters")),
            ] {
                let Some(list) = list.and_then(Value::as_array) else {
                    continue;
                };
                for (index, parameter) in list.iter().enumerate() {
                    let at = format!("{list_at}[{index}]");
                    let parameter = resolve(&document, parameter, &at)?;
                    let Some(parameter) = parameter_spec(parameter, &at, &schemas)? else {
                        continue;
                    };
                    parameters.retain(|known| !(known.name == parameter.name && known.location == parameter.location));
                    parameters.push(parameter);
                }
            }
            let body = match operation.get("requestBody") {
                Some(body) => {
                    let at = format!("{at}.requestBody");
                    Some(body_spec(resolve(&document, body, &at)?, &at, &schemas)?)
                }
                None => None,
            };
            let schemas_of_operation = parameters
                .iter()
                .filter_map(|parameter| parameter.schema.as_ref())
                .chain(
                    body.iter()
                        .flat_map(|body| body.content.iter().filter_map(|media| media.schema.as_ref())),
                );
            for schema in schemas_of_operation {
                if let Some(reference) = external_reference(schema) {
                    return Err(format!(
                        "openapi {at}: `{reference}` points outside the document; bundle it into one document to validate requests"
                    ));
                }
            }
            operations.push(ValidatedOperationSpec {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                id: operation.get("operationId").and_then(Value::as_str).map(str::to_owned),
                parameters,
                body,
            });
        }
    }
    Ok(ValidationSpec {
        dialect,
        components,
        operations,
    })
}

/// A `$ref` to another part of the document, followed (parameters and request bodies may be
/// references); anything else as it is.
fn resolve<'a>(document: &'a Value, value: &'a Value, at: &str) -> Result<&'a Value, String> {
    let mut current = value;
    for _ in 0..8 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return Ok(current);
        };
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(format!(
                "openapi {at}: `{reference}` points outside the document; bundle it into one document to validate requests"
            ));
        };
        current = document
            .pointer(pointer)
            .ok_or_else(|| format!("openapi {at}: `{reference}` points to nothing in the document"))?;
    }
    Err(format!("openapi {at}: references refer to each other in a loop"))
}

/// A `$ref` in a schema that does not point into the document itself.
fn external_reference(schema: &Value) -> Option<&str> {
    match schema {
        Value::Object(object) => object.iter().find_map(|(key, value)| match (key.as_str(), value) {
            ("$ref", Value::String(reference)) if !reference.starts_with('#') => Some(reference.as_str()),
            _ => external_reference(value),
        }),
        Value::Array(items) => items.iter().find_map(external_reference),
        _ => None,
    }
}

fn parameter_spec(
    parameter: &Value,
    at: &str,
    schemas: &impl Fn(&Value) -> Value,
) -> Result<Option<ParameterSpec>, String> {
    let name = parameter
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("openapi {at}.name: a parameter needs a name"))?;
    let location = match parameter.get("in").and_then(Value::as_str) {
        Some("path") => ParameterLocation::Path,
        Some("query") => ParameterLocation::Query,
        Some("header") => ParameterLocation::Header,
        Some("cookie") => ParameterLocation::Cookie,
        other => {
            return Err(format!(
                "openapi {at}.in: `{}` is not path, query, header or cookie",
                other.unwrap_or("")
            ));
        }
    };
    // OpenAPI: these headers are described elsewhere (the body's media types, security), and
    // such a parameter "SHALL be ignored".
    if location == ParameterLocation::Header
        && ["accept", "content-type", "authorization"].contains(&name.to_ascii_lowercase().as_str())
    {
        return Ok(None);
    }
    // A parameter described by `content` rather than `schema` is checked for presence only.
    let schema = parameter.get("schema").map(schemas);
    let style_explode = match parameter.get("style").and_then(Value::as_str) {
        Some("form") | None => location == ParameterLocation::Query || location == ParameterLocation::Cookie,
        _ => false,
    };
    let explode = parameter
        .get("explode")
        .and_then(Value::as_bool)
        .unwrap_or(style_explode);
    Ok(Some(ParameterSpec {
        name: name.to_owned(),
        location,
        required: parameter.get("required").and_then(Value::as_bool).unwrap_or(false)
            || location == ParameterLocation::Path,
        schema,
        explode: Some(explode),
    }))
}

fn body_spec(body: &Value, at: &str, schemas: &impl Fn(&Value) -> Value) -> Result<RequestBodySpec, String> {
    let content = body
        .get("content")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("openapi {at}.content: a request body needs its media types"))?;
    Ok(RequestBodySpec {
        required: body.get("required").and_then(Value::as_bool).unwrap_or(false),
        content: content
            .iter()
            .map(|(media_type, media)| MediaTypeSpec {
                media_type: media_type.clone(),
                schema: media.get("schema").map(schemas),
            })
            .collect(),
    })
}

/// OpenAPI 3.0's `nullable: true`, as JSON Schema says it: `"null"` among the types (and the
/// enum, when there is one), in a schema and every schema inside it.
fn nullable_to_type(value: &Value) -> Value {
    let Value::Object(object) = value else {
        return match value {
            Value::Array(items) => Value::Array(items.iter().map(nullable_to_type).collect()),
            other => other.clone(),
        };
    };
    let mut rewritten = Map::new();
    for (key, value) in object {
        let value = match key.as_str() {
            "nullable" => continue,
            // Data, not schemas.
            "example" | "examples" | "default" | "enum" | "const" | "required" | "type" | "format" => value.clone(),
            // Maps of names to schemas, whose names are anything (a property may be called `nullable`).
            "properties" | "patternProperties" | "definitions" | "$defs" | "dependentSchemas" => schema_map(value),
            _ => nullable_to_type(value),
        };
        rewritten.insert(key.clone(), value);
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        match rewritten.get_mut("type") {
            Some(Value::String(name)) => {
                let name = std::mem::take(name);
                rewritten.insert("type".into(), Value::Array(vec![Value::String(name), "null".into()]));
            }
            Some(Value::Array(names)) if !names.contains(&Value::from("null")) => names.push("null".into()),
            _ => {}
        }
        if let Some(Value::Array(values)) = rewritten.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
    Value::Object(rewritten)
}

/// A map of names to schemas, each rewritten by [`nullable_to_type`].
fn schema_map(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(name, schema)| (name.clone(), nullable_to_type(schema)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether the gateway compiles a document's rules, as it would on load; the error names the
/// schema that does not compile.
pub fn check(document: &str) -> Result<ValidationSpec, String> {
    let spec = validation(document)?;
    gateway::validation::CompiledValidation::check(&spec).map_err(|(field, message)| {
        let place = field
            .strip_prefix("operations[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(index, rest)| {
                let operation = spec.operations.get(index.parse::<usize>().ok()?)?;
                Some(format!("{} {}{rest}", operation.method, operation.path))
            })
            .unwrap_or(field);
        format!("{place}: {message}")
    })?;
    Ok(spec)
}

#[cfg(test)]
mod tests;
