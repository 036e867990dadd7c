use gateway::snapshot::{ParameterLocation, SchemaDialect};
use serde_json::json;

use super::*;

const PETS_3_0: &str = r##"
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
      - {name: verbose, in: query, schema: {type: boolean}}
    get:
      operationId: showPet
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
        - $ref: "#/components/parameters/Trace"
        - {name: Authorization, in: header, required: true, schema: {type: string}}
    put:
      requestBody:
        $ref: "#/components/requestBodies/Pet"
components:
  parameters:
    Trace: {name: x-trace, in: header, schema: {type: string, nullable: true}}
  requestBodies:
    Pet:
      required: true
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Pet"}
  schemas:
    Pet:
      type: object
      properties:
        nullable: {type: string, nullable: true, enum: [a, b]}
        name: {type: string}
"##;

#[test]
fn operations_merge_path_parameters_resolve_references_and_say_nullable_as_json_schema() {
    let spec = validation(PETS_3_0).expect("the document is usable");
    assert_eq!(spec.dialect, SchemaDialect::OpenApi30);
    let [show, put] = spec.operations.as_slice() else {
        panic!("two operations: {:?}", spec.operations);
    };
    assert_eq!((show.method.as_str(), show.id.as_deref()), ("GET", Some("showPet")));
    let parameters: Vec<(&str, ParameterLocation)> = show
        .parameters
        .iter()
        .map(|parameter| (parameter.name.as_str(), parameter.location))
        .collect();
    // The operation's `id` replaces the path item's; `Authorization` is ignored, as OpenAPI says.
    assert_eq!(
        parameters,
        [
            ("verbose", ParameterLocation::Query),
            ("id", ParameterLocation::Path),
            ("x-trace", ParameterLocation::Header)
        ]
    );
    assert_eq!(show.parameters[1].schema, Some(json!({"type": "integer"})));
    assert_eq!(show.parameters[2].schema, Some(json!({"type": ["string", "null"]})));
    assert_eq!(put.method, "PUT");
    let body = put.body.as_ref().expect("the referenced body");
    assert!(body.required);
    assert_eq!(body.content[0].media_type, "application/json");
    assert_eq!(
        body.content[0].schema,
        Some(json!({"$ref": "#/components/schemas/Pet"}))
    );
    // A property named `nullable` is a property, not the keyword.
    assert_eq!(
        spec.components.unwrap()["schemas"]["Pet"]["properties"]["nullable"],
        json!({"type": ["string", "null"], "enum": ["a", "b", null]})
    );
}

#[test]
fn a_3_1_document_keeps_its_schemas_and_references_outside_it_are_refused() {
    let document = r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"type": ["object", "null"]}}}}}}}}"#;
    let spec = validation(document).unwrap();
    assert_eq!(spec.dialect, SchemaDialect::OpenApi31);
    assert_eq!(spec.operations[0].id, None);
    assert!(spec.components.is_none());

    let external = r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {
        "parameters": [{"$ref": "common.yaml#/components/parameters/Page"}]}}}}"#;
    let error = validation(external).unwrap_err();
    assert!(
        error.contains("paths./a.get.parameters[0]") && error.contains("points outside the document"),
        "{error}"
    );
}

#[test]
fn a_schema_the_gateway_cannot_compile_is_named_by_its_operation() {
    let document = r##"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}}}}}"##;
    let error = check(document).unwrap_err();
    assert!(
        error.starts_with("POST /pets.body.content[0].schema: ") && error.contains("Nope"),
        "{error}"
    );
    assert!(check(PETS_3_0).is_ok());
}
