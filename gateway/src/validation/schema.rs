//! One JSON Schema of a document, compiled with the `jsonschema` crate in the dialect its
//! OpenAPI version uses. A schema's `$ref`s point into the document's `components`, so a schema
//! that has any is compiled with the components beside it, as its own document's root would have.

use jsonschema::{Draft, Validator};
use serde_json::Value;

use super::Violation;
use crate::snapshot::SchemaDialect;

/// The longest detail of one violation; a schema error can quote a whole body.
const MAX_DETAIL_LEN: usize = 300;

/// A compiled schema.
#[derive(Debug)]
pub struct Schema(Validator);

impl Schema {
    /// Compiles `schema`; the error says why it is not a schema (or names a `$ref` that
    /// points nowhere).
    pub fn compile(schema: &Value, dialect: SchemaDialect, components: Option<&Value>) -> Result<Schema, String> {
        let draft = match dialect {
            SchemaDialect::OpenApi30 => Draft::Draft4,
            SchemaDialect::OpenApi31 => Draft::Draft202012,
        };
        let rooted;
        let document = match (schema, components) {
            (Value::Object(object), Some(components)) if has_ref(schema) => {
                let mut object = object.clone();
                object.insert("components".to_owned(), components.clone());
                rooted = Value::Object(object);
                &rooted
            }
            _ => schema,
        };
        jsonschema::options()
            .with_draft(draft)
            .should_validate_formats(true)
            .build(document)
            .map(Schema)
            .map_err(|error| error.to_string())
    }

    /// Checks `value`, adding its violations under `pointer` (`#/body`) to `violations`.
    pub fn check(&self, value: &Value, pointer: &str, violations: &mut Vec<Violation>) {
        if self.0.is_valid(value) {
            return;
        }
        let first = violations.len();
        for error in self.0.iter_errors(value) {
            let mut detail = error.to_string();
            if detail.len() > MAX_DETAIL_LEN {
                let mut end = MAX_DETAIL_LEN;
                while !detail.is_char_boundary(end) {
                    end -= 1;
                }
                detail.truncate(end);
                detail.push('…');
            }
            violations.push(Violation {
                pointer: format!("{pointer}{}", error.instance_path()),
                detail,
            });
        }
        // In document order, whatever order the keywords were checked in.
        violations[first..].sort_by(|a, b| a.pointer.cmp(&b.pointer));
    }
}

/// Whether a schema refers anywhere.
fn has_ref(value: &Value) -> bool {
    match value {
        Value::Object(object) => object
            .iter()
            .any(|(key, value)| (key == "$ref" && value.is_string()) || has_ref(value)),
        Value::Array(items) => items.iter().any(has_ref),
        _ => false,
    }
}

/// A name as one JSON pointer token (RFC 6901: `~` is `~0`, `/` is `~1`).
pub fn escape_pointer(name: &str) -> std::borrow::Cow<'_, str> {
    if name.contains(['~', '/']) {
        name.replace('~', "~0").replace('/', "~1").into()
    } else {
        name.into()
    }
}

/// The schema a `$ref` to `#/components/...` names, following refs to refs a few times.
pub fn resolve<'a>(schema: &'a Value, components: Option<&'a Value>) -> &'a Value {
    let mut current = schema;
    for _ in 0..8 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return current;
        };
        let target = reference
            .strip_prefix("#/components")
            .and_then(|pointer| components?.pointer(pointer));
        match target {
            Some(target) => current = target,
            None => return current,
        }
    }
    current
}
