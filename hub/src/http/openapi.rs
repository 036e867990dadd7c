//! The admin API's own description: the OpenAPI document (generated from the handlers by
//! utoipa) and a reference page that renders it with Swagger UI, served from the binary.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use std::collections::BTreeMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

use super::problem::Problem;

/// The document's fixed parts; paths come from the routers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Gatehouse admin API",
        description = "Manage APIs, versions, users, groups, plans, access policies, applications, keys and gateways. \
                       Authenticate with `Authorization: Bearer <admin token>`, or HTTP Basic with a user's name and password. \
                       Errors are RFC 9457 problem+json.",
    ),
    components(schemas(Problem, crate::validate::FieldError)),
    modifiers(&Security),
)]
pub struct ApiDoc;

/// The base document, before the routers add their paths.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// Completes the document once every path is in.
pub fn finish(mut document: OpenApi) -> OpenApi {
    ProblemResponses.modify(&mut document);
    OpenCompositions.modify(&mut document);
    document
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
    }
}

/// Adds the problem responses every admin operation can give, so each is documented once.
pub struct ProblemResponses;

const PROBLEMS: [(&str, &str); 8] = [
    (
        "400",
        "The request could not be read: malformed JSON or a bad parameter",
    ),
    ("401", "No credentials, or credentials that match nothing"),
    ("403", "The caller's role does not allow this"),
    ("404", "No such object"),
    (
        "409",
        "Conflicts with the current state: a duplicate, a claimed route, an object in use",
    ),
    ("413", "The request body is larger than the limit"),
    ("415", "The request body is not JSON"),
    ("422", "The request broke validation rules; `errors` names each field"),
];

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
                continue;
            }
            let operations: [&mut Option<Operation>; 4] =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                for (status, description) in PROBLEMS {
                    let schema = RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem"));
                    let content = ContentBuilder::new().schema(Some(schema)).build();
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content("application/problem+json", content)
                        .build();
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert(RefOr::T(response));
                }
                let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
                let basic = SecurityRequirement::new("basic", Vec::<String>::new());
                operation.security = Some(vec![bearer, basic]);
            }
        }
    }
}

/// Stops the members of an `allOf` from refusing each other's properties.
///
/// `#[serde(deny_unknown_fields)]` on an input type makes utoipa document it with
/// `additionalProperties: false`. That is true of a request body, but not where the type is one
/// member of an `allOf`, as a `#[serde(flatten)]`ed struct is (`Stored<T>` beside its `Meta`,
/// `ApiVersion` around its `ApiVersionSpec`): every member must then accept the whole object, and
/// no real response would validate. So inside an `allOf`, a member loses `additionalProperties:
/// false`; a member that is a `$ref` to such a schema is replaced by an open copy, so the schema
/// itself stays strict where it is a request body. Serde still refuses unknown fields at run time.
pub struct OpenCompositions;

impl Modify for OpenCompositions {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi
            .components
            .as_ref()
            .map(|components| components.schemas.clone())
            .unwrap_or_default();
        if let Some(schemas) = openapi.components.as_mut() {
            for schema in schemas.schemas.values_mut() {
                open_compositions(schema, &components);
            }
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let request = operation
                    .request_body
                    .iter_mut()
                    .flat_map(|body| body.content.values_mut());
                let responses = operation
                    .responses
                    .responses
                    .values_mut()
                    .flat_map(|response| match response {
                        RefOr::T(response) => Some(response.content.values_mut()),
                        RefOr::Ref(_) => None,
                    });
                for content in request.chain(responses.flatten()) {
                    if let Some(schema) = content.schema.as_mut() {
                        open_compositions(schema, &components);
                    }
                }
            }
        }
    }
}

/// Walks `schema` and everything inside it, opening the members of every `allOf`.
fn open_compositions(schema: &mut RefOr<Schema>, components: &BTreeMap<String, RefOr<Schema>>) {
    let RefOr::T(schema) = schema else {
        // A component is walked on its own.
        return;
    };
    match schema {
        Schema::AllOf(all_of) => {
            for member in &mut all_of.items {
                if let RefOr::Ref(reference) = member
                    && let Some(target) = component(&reference.ref_location, components)
                    && is_closed(target)
                {
                    *member = RefOr::T(target.clone());
                }
                if let RefOr::T(Schema::Object(object)) = member
                    && matches!(
                        object.additional_properties.as_deref(),
                        Some(AdditionalProperties::FreeForm(false))
                    )
                {
                    object.additional_properties = None;
                }
                open_compositions(member, components);
            }
        }
        Schema::Object(object) => {
            for property in object.properties.values_mut() {
                open_compositions(property, components);
            }
            if let Some(AdditionalProperties::RefOr(values)) = object.additional_properties.as_deref_mut() {
                open_compositions(values, components);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                open_compositions(items, components);
            }
        }
        Schema::OneOf(one_of) => one_of
            .items
            .iter_mut()
            .for_each(|item| open_compositions(item, components)),
        Schema::AnyOf(any_of) => any_of
            .items
            .iter_mut()
            .for_each(|item| open_compositions(item, components)),
        _ => {}
    }
}

/// The component a `#/components/schemas/…` reference names.
fn component<'a>(location: &str, components: &'a BTreeMap<String, RefOr<Schema>>) -> Option<&'a Schema> {
    let name = location.strip_prefix("#/components/schemas/")?;
    match components.get(name)? {
        RefOr::T(schema) => Some(schema),
        RefOr::Ref(_) => None,
    }
}

/// Whether a schema refuses properties it does not list.
fn is_closed(schema: &Schema) -> bool {
    matches!(schema, Schema::Object(object)
        if matches!(object.additional_properties.as_deref(), Some(AdditionalProperties::FreeForm(false))))
}

/// The reference page: Swagger UI, loaded from `/static`, pointed at the served document.
pub async fn reference_page() -> Html<&'static str> {
    Html(include_str!("../../../templates/hub/api_reference.html"))
}

/// Serves a file embedded from `static/`.
pub fn asset(bytes: &'static [u8], content_type: &'static str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    response
}
