use http::{HeaderMap, HeaderValue};
use serde_json::json;

use super::*;
use crate::snapshot::ValidationSpec;

fn compile(spec: serde_json::Value) -> Result<CompiledValidation, Vec<String>> {
    let spec: ValidationSpec = serde_json::from_value(spec).expect("a validation spec");
    let mut problems = Problems::default();
    let compiled = CompiledValidation::compile(&spec, "v", &mut problems);
    if problems.0.is_empty() {
        Ok(compiled)
    } else {
        Err(problems
            .0
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect())
    }
}

fn pets(dialect: &str) -> CompiledValidation {
    compile(json!({
        "dialect": dialect,
        "components": {"schemas": {
            "Pet": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "minLength": 1},
                "age": {"type": "integer", "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}}
            }, "additionalProperties": false},
            "Limit": {"type": "integer", "minimum": 1, "maximum": 100}
        }},
        "operations": [
            {"method": "GET", "path": "/pets", "id": "listPets", "parameters": [
                {"name": "limit", "in": "query", "schema": {"$ref": "#/components/schemas/Limit"}},
                {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}},
                {"name": "x-trace", "in": "header", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]+$"}},
                {"name": "session", "in": "cookie", "schema": {"type": "string", "maxLength": 4}}
            ]},
            {"method": "POST", "path": "/pets", "id": "createPet", "body": {"required": true, "content": [
                {"media_type": "application/json", "schema": {"$ref": "#/components/schemas/Pet"}},
                {"media_type": "text/*"}
            ]}},
            {"method": "GET", "path": "/pets/{id}", "id": "showPet", "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}
            ]},
            {"method": "GET", "path": "/pets/mine", "id": "myPets"},
            {"method": "GET", "path": "/files/{name}.json"}
        ]
    }))
    .expect("compiles")
}

fn violations(operation: &ValidatedOperation, path: &str, query: Option<&str>, headers: &HeaderMap) -> Vec<String> {
    let mut found = Vec::new();
    operation.check_parameters(
        &RequestParts {
            method: "GET",
            path,
            query,
            headers,
            api: None,
        },
        &mut found,
    );
    found
        .into_iter()
        .map(|v| format!("{} {}", v.pointer, v.detail))
        .collect()
}

fn found<'a>(validation: &'a CompiledValidation, method: &str, path: &str) -> &'a ValidatedOperation {
    match validation.find(method, path) {
        OperationMatch::Found(operation) => operation,
        other => panic!("{method} {path}: {other:?}"),
    }
}

fn trace_header() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-trace", HeaderValue::from_static("abc123"));
    headers
}

#[test]
fn operations_are_found_literal_paths_first_and_other_methods_are_named() {
    let validation = pets("openapi_3_1");
    assert_eq!(&*found(&validation, "GET", "/pets/mine").name, "myPets");
    assert_eq!(&*found(&validation, "GET", "/pets/7").name, "showPet");
    assert_eq!(
        &*found(&validation, "GET", "/files/a.json").name,
        "GET /files/{name}.json"
    );
    match validation.find("DELETE", "/pets") {
        OperationMatch::MethodNotAllowed(allow) => assert_eq!(allow, "GET, POST"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(validation.find("GET", "/owners"), OperationMatch::NotFound));
    assert!(matches!(
        validation.find("GET", "/pets/7/toys"),
        OperationMatch::NotFound
    ));
    assert!(matches!(validation.find("GET", "/pets/"), OperationMatch::NotFound));
}

#[test]
fn query_header_and_cookie_parameters_are_typed_from_their_schemas() {
    let validation = pets("openapi_3_1");
    let list = found(&validation, "GET", "/pets");
    let headers = trace_header();
    assert!(violations(list, "/pets", Some("limit=10&tag=a&tag=b"), &headers).is_empty());
    // Encoded.
    assert!(violations(list, "/pets", Some("limit=%31%30"), &headers).is_empty());
    assert_eq!(
        violations(list, "/pets", Some("limt=5&limt=6"), &headers),
        ["#/query/limt `limt` is not a query parameter of operation `listPets`"]
    );
    let found = violations(list, "/pets", Some("limit=ten&tag=a&tag=c"), &headers);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("#/query/limit ") && found[0].contains("\"ten\" is not of type \"integer\""),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("#/query/tag/1 ") && found[1].contains("\"c\""),
        "{found:?}"
    );
    assert_eq!(
        violations(list, "/pets", Some("limit=1&limit=2"), &headers),
        ["#/query/limit the query parameter `limit` is given 2 times; it takes one value"]
    );
    let found = violations(list, "/pets", Some("limit=1000"), &headers);
    assert!(
        found[0].starts_with("#/query/limit ") && found[0].contains("100"),
        "{found:?}"
    );
    // A required header, missing; a header and a cookie of the wrong shape.
    let found = violations(list, "/pets", None, &HeaderMap::new());
    assert_eq!(found, ["#/header/x-trace the header parameter `x-trace` is required"]);
    let mut headers = HeaderMap::new();
    headers.insert("x-trace", HeaderValue::from_static("XYZ"));
    headers.insert("cookie", HeaderValue::from_static("theme=dark; session=toolong"));
    let found = violations(list, "/pets", None, &headers);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("#/header/x-trace "), "{found:?}");
    assert!(found[1].starts_with("#/cookie/session "), "{found:?}");
}

#[test]
fn path_parameters_are_decoded_and_typed() {
    let validation = pets("openapi_3_1");
    let show = found(&validation, "GET", "/pets/7");
    assert!(violations(show, "/pets/7", None, &HeaderMap::new()).is_empty());
    assert!(violations(show, "/pets/%37", None, &HeaderMap::new()).is_empty());
    let found = violations(show, "/pets/seven", None, &HeaderMap::new());
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("#/path/id ") && found[0].contains("integer"),
        "{found:?}"
    );
}

fn plan(operation: &ValidatedOperation, content_type: Option<&str>, has_body: bool) -> (Vec<String>, bool) {
    let mut found = Vec::new();
    let value = content_type.map(|text| HeaderValue::from_str(text).unwrap());
    let check = operation
        .body
        .as_ref()
        .unwrap()
        .plan(value.as_ref(), has_body, &mut found);
    (
        found
            .into_iter()
            .map(|v| format!("{} {}", v.pointer, v.detail))
            .collect(),
        matches!(check, BodyCheck::Json(_)),
    )
}

#[test]
fn a_body_is_required_of_an_accepted_type_and_json_is_checked_by_its_schema() {
    let validation = pets("openapi_3_1");
    let create = found(&validation, "POST", "/pets");
    assert_eq!(
        plan(create, None, false).0,
        ["#/body a request body is required (application/json, text/*)"]
    );
    assert_eq!(
        plan(create, Some("application/xml"), true).0,
        [
            "#/header/content-type `application/xml` is not a media type the operation accepts (application/json, text/*)"
        ]
    );
    assert!(plan(create, None, true).0[0].starts_with("#/header/content-type a body needs a Content-Type"));
    // Text bodies are accepted and stream; JSON is checked, parameters and case aside.
    assert_eq!(plan(create, Some("text/plain"), true), (vec![], false));
    assert_eq!(
        plan(create, Some("Application/JSON; charset=utf-8"), true),
        (vec![], true)
    );

    let BodyCheck::Json(schema) = create.body.as_ref().unwrap().plan(
        Some(&HeaderValue::from_static("application/json")),
        true,
        &mut Vec::new(),
    ) else {
        panic!("a JSON body is checked");
    };
    let check = |body: &str| {
        let mut found = Vec::new();
        check_json(schema, body.as_bytes(), &mut found);
        found.into_iter().map(|v| v.pointer).collect::<Vec<_>>()
    };
    assert!(check(r#"{"name": "Rex", "age": 3, "tags": ["dog"]}"#).is_empty());
    assert_eq!(
        check(r#"{"age": -1, "tags": [1]}"#),
        ["#/body", "#/body/age", "#/body/tags/0"]
    );
    assert_eq!(check(r#"{"name": "Rex", "colour": "red"}"#), ["#/body"]);
    assert_eq!(check(r#"{"name": "Rex""#), ["#/body"]);
}

#[test]
fn openapi_3_0_schemas_keep_draft_4_meanings() {
    let spec = |dialect: &str| {
        json!({"dialect": dialect, "operations": [{"method": "GET", "path": "/n", "parameters": [
            {"name": "n", "in": "query", "schema": {"type": "number", "minimum": 5, "exclusiveMinimum": true}}
        ]}]})
    };
    let validation = compile(spec("openapi_3_0")).expect("a 3.0 schema compiles");
    let operation = found(&validation, "GET", "/n");
    assert_eq!(violations(operation, "/n", Some("n=5"), &HeaderMap::new()).len(), 1);
    assert!(violations(operation, "/n", Some("n=5.5"), &HeaderMap::new()).is_empty());
    // The same schema is no 2020-12 schema: `exclusiveMinimum` must be a number there.
    let problems = compile(spec("openapi_3_1")).expect_err("refused");
    assert!(
        problems[0].starts_with("v.operations[0].parameters[0].schema: "),
        "{problems:?}"
    );
}

#[test]
fn broken_schemas_and_references_are_named_by_field() {
    let problems = compile(json!({"dialect": "openapi_3_1", "operations": [
        {"method": "FETCH", "path": "/a"},
        {"method": "GET", "path": "b"},
        {"method": "POST", "path": "/c", "body": {"content": [
            {"media_type": "json", "schema": {}},
            {"media_type": "application/json", "schema": {"$ref": "#/components/schemas/Missing"}}
        ]}},
        {"method": "GET", "path": "/d", "parameters": [{"name": "bad header", "in": "header"}]}
    ]}))
    .expect_err("refused");
    let fields: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "v.operations[0].method",
            "v.operations[1].path",
            "v.operations[2].body.content[0].media_type",
            "v.operations[2].body.content[1].schema",
            "v.operations[3].parameters[0].name",
        ],
        "{problems:?}"
    );
    assert!(problems[3].contains("Missing"), "{problems:?}");
}
