//! Parameters arrive as text; their schemas speak of integers, booleans and arrays. A value is
//! turned into the JSON its schema's type asks for before it is checked, as OpenAPI's `style`
//! rules describe (form for query parameters, simple elsewhere). Text that is not of the type
//! stays text, so the schema's own error says what is wrong ("\"ten\" is not of type integer").

use std::borrow::Cow;

use http::HeaderMap;
use serde_json::{Number, Value};

use super::schema::resolve;

/// What JSON a parameter's text becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    String,
    Integer,
    Number,
    Boolean,
    Array(Box<ValueKind>),
    /// An object (`deepObject` and friends): not checked, since its serialisations are many.
    Object,
}

impl ValueKind {
    /// The kind a schema's `type` names (following a `$ref`); text when it names none.
    pub fn of(schema: &Value, components: Option<&Value>) -> ValueKind {
        let schema = resolve(schema, components);
        let named = match schema.get("type") {
            Some(Value::String(name)) => Some(name.as_str()),
            // `["integer", "null"]`: the first type that is not null.
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).find(|name| *name != "null"),
            _ => None,
        };
        match named {
            Some("integer") => ValueKind::Integer,
            Some("number") => ValueKind::Number,
            Some("boolean") => ValueKind::Boolean,
            Some("object") => ValueKind::Object,
            Some("array") => ValueKind::Array(Box::new(
                schema
                    .get("items")
                    .map_or(ValueKind::String, |items| ValueKind::of(items, components)),
            )),
            None if schema.get("items").is_some() => ValueKind::Array(Box::new(ValueKind::String)),
            _ => ValueKind::String,
        }
    }

    /// The JSON of a parameter's values (every occurrence, in order); `None` when it is not
    /// checked (objects).
    pub fn coerce(&self, raw: &[Cow<'_, str>], explode: bool) -> Option<Value> {
        match self {
            ValueKind::Object => None,
            ValueKind::Array(item) => {
                let items: Vec<Value> = if explode {
                    raw.iter().map(|value| item.scalar(value)).collect()
                } else {
                    raw.iter()
                        .flat_map(|value| value.split(','))
                        .filter(|value| !value.is_empty())
                        .map(|value| item.scalar(value))
                        .collect()
                };
                Some(Value::Array(items))
            }
            scalar => Some(scalar.scalar(&raw[0])),
        }
    }

    fn scalar(&self, text: &str) -> Value {
        let parsed = match self {
            ValueKind::Integer => text
                .parse::<i64>()
                .ok()
                .map(Number::from)
                .or_else(|| text.parse::<u64>().ok().map(Number::from))
                // Beyond 64 bits, still an integer to JSON Schema (a number without a fraction).
                .or_else(|| {
                    let digits = text.strip_prefix('-').unwrap_or(text);
                    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| text.parse::<f64>().ok().and_then(Number::from_f64))
                        .flatten()
                }),
            ValueKind::Number => text
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite() && !text.starts_with('+'))
                .and_then(Number::from_f64),
            ValueKind::Boolean => {
                return match text {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::String(text.to_owned()),
                };
            }
            _ => None,
        };
        parsed.map_or_else(|| Value::String(text.to_owned()), Value::Number)
    }
}

/// A path segment's text, percent-decoded (undecodable bytes become U+FFFD).
pub fn percent_decoded(segment: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy()
}

/// The values of the cookies named `name`, from every `Cookie` header.
pub fn cookies<'h>(headers: &'h HeaderMap, name: &str) -> Vec<Cow<'h, str>> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| Cow::Borrowed(value))
        .collect()
}
