//! Client certificates (consumer mTLS): an application's registered certificates, nested under
//! it like its keys (`/applications/{id}/certificates`), and the client CAs that sign them
//! (`/client-cas`). Nothing here is secret: a certificate is public, and a PEM with a private key
//! in it is refused.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Viewer};
use super::extract::{JsonBody, PathParams, QueryParams};
use super::objects::{object_routes, page_filter};
use super::problem::ApiError;
use super::resources::TextListParams;
use crate::domain::{client_certificates, objects};
use crate::model::{
    Application, ApplicationCertificate, ApplicationCertificateInput, ClientCa, ClientCaView, Kind, ObjectRef, Page,
    Stored,
};

object_routes! {
    mod client_cas;
    singular: client_ca,
    kind: ClientCa, input: ClientCa, view: ClientCaView, params: TextListParams,
    collection: "/client-cas", item: "/client-cas/{name}", key: "name", tag: "Client certificates",
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(get, delete))
        .routes(routes!(revoke))
        .merge(client_cas::router())
}

/// What an admin sends to register a certificate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterCertificateRequest {
    /// A label to recognise it by (`billing-prod`).
    pub name: String,
    /// The client's leaf certificate, PEM: one `BEGIN CERTIFICATE` block, no private key.
    pub certificate_pem: String,
}

/// Filters for listing an application's certificates.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CertificateListParams {
    /// Only revoked (`true`) or active (`false`) certificates.
    pub revoked: Option<bool>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists an application's client certificates.
#[utoipa::path(get, path = "/applications/{id}/certificates", operation_id = "list_client_certificates",
    tag = "Client certificates", params(("id" = String, Path), CertificateListParams),
    responses((status = 200, body = Page<Stored<ApplicationCertificate>>)))]
pub async fn list(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams(application): PathParams<String>,
    QueryParams(params): QueryParams<CertificateListParams>,
) -> Result<Json<Page<Stored<ApplicationCertificate>>>, ApiError> {
    objects::get::<Application>(&state.store, &application).await?;
    let mut filter = page_filter(params.limit, params.cursor, None)?;
    filter.refers_to = Some(ObjectRef::new(Application::KIND, application));
    filter
        .labels
        .extend(params.revoked.map(|revoked| format!("revoked:{revoked}")));
    let page = objects::list::<ApplicationCertificate>(&state.store, &filter).await?;
    Ok(Json(Page {
        items: page.items.iter().map(|record| record.view()).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Registers a client certificate for an application: the hub keeps it and its SHA-256
/// fingerprint; it authenticates the application on APIs that take client certificates from the
/// next publish. Refused (422, naming the field) when the PEM is not one certificate, holds a
/// private key, is a CA's or has expired, or the application is unknown; 409 when registered
/// already.
#[utoipa::path(post, path = "/applications/{id}/certificates", operation_id = "register_client_certificate",
    tag = "Client certificates", params(("id" = String, Path)), request_body = RegisterCertificateRequest,
    responses((status = 201, body = Stored<ApplicationCertificate>)))]
pub async fn register(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams(application): PathParams<String>,
    JsonBody(request): JsonBody<RegisterCertificateRequest>,
) -> Result<(StatusCode, Json<Stored<ApplicationCertificate>>), ApiError> {
    let input = ApplicationCertificateInput {
        application,
        name: request.name,
        certificate_pem: request.certificate_pem,
    };
    let record = client_certificates::register(&state.store, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(record.view())))
}

/// Reads one client certificate.
#[utoipa::path(get, path = "/applications/{id}/certificates/{certificate_id}", operation_id = "get_client_certificate",
    tag = "Client certificates", params(("id" = String, Path), ("certificate_id" = String, Path)),
    responses((status = 200, body = Stored<ApplicationCertificate>)))]
pub async fn get(
    State(state): State<AppState>,
    _viewer: Viewer,
    PathParams((application, id)): PathParams<(String, String)>,
) -> Result<Json<Stored<ApplicationCertificate>>, ApiError> {
    Ok(Json(
        client_certificates::get(&state.store, &application, &id).await?.view(),
    ))
}

/// Revokes a client certificate: it stays listed, and stops working at the next publish.
#[utoipa::path(post, path = "/applications/{id}/certificates/{certificate_id}/revoke",
    operation_id = "revoke_client_certificate", tag = "Client certificates",
    params(("id" = String, Path), ("certificate_id" = String, Path)),
    responses((status = 200, body = Stored<ApplicationCertificate>)))]
pub async fn revoke(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams((application, id)): PathParams<(String, String)>,
) -> Result<Json<Stored<ApplicationCertificate>>, ApiError> {
    Ok(Json(
        client_certificates::revoke(&state.store, &actor, &application, &id)
            .await?
            .view(),
    ))
}

/// Deletes a client certificate.
#[utoipa::path(delete, path = "/applications/{id}/certificates/{certificate_id}",
    operation_id = "delete_client_certificate", tag = "Client certificates",
    params(("id" = String, Path), ("certificate_id" = String, Path)),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(actor): Admin,
    PathParams((application, id)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    client_certificates::delete(&state.store, &actor, &application, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
