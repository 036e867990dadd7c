//! The five admin API operations every managed kind has (list, create, read, replace,
//! delete), written once as a macro so each kind's routes and OpenAPI entries read alike and
//! call the same domain functions (`domain::objects`).

use serde::Deserialize;
use utoipa::IntoParams;

use super::problem::ApiError;
use crate::model::{DEFAULT_PAGE_SIZE, ListFilter, MAX_PAGE_SIZE};

/// The `cascade` flag of a delete.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Also delete what this object owns, and detach it from what refers to it.
    #[serde(default)]
    pub cascade: bool,
}

/// Checks a page size and cursor and starts a filter from them.
pub fn page_filter(limit: Option<u32>, cursor: Option<String>, query: Option<String>) -> Result<ListFilter, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::rejected(
            axum::http::StatusCode::BAD_REQUEST,
            Some("limit".into()),
            format!("must be 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    let query = query.filter(|query| !query.is_empty());
    Ok(ListFilter {
        query,
        labels: Vec::new(),
        refers_to: None,
        cursor,
        limit,
    })
}

/// Reads the cursor of a list paged by number (audit entries, revisions), newest first.
pub fn numeric_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|cursor| {
            cursor.parse::<i64>().map_err(|_| {
                ApiError::rejected(
                    axum::http::StatusCode::BAD_REQUEST,
                    Some("cursor".into()),
                    "must be a `next_cursor` from a previous page",
                )
            })
        })
        .transpose()
}

/// Declares a module with the five operations for one kind, and its router.
///
/// `$Params` must have a `fn into_filter(self) -> Result<ListFilter, ApiError>`. The operation
/// ids are `list_$module`, then `create_`, `get_`, `replace_` and `delete_` with `$singular`.
// rustfmt shifts the continuation lines of an attribute inside `macro_rules!` to the right, so
// this body is formatted by hand.
#[rustfmt::skip]
macro_rules! object_routes {
    (
        mod $module:ident;
        singular: $singular:ident,
        kind: $Kind:ident,
        input: $Input:ident,
        view: $View:ident,
        params: $Params:ident,
        collection: $collection:literal,
        item: $item:literal,
        key: $key:literal,
        tag: $tag:literal $(,)?
    ) => {
        pub mod $module {
            use axum::Json;
            use axum::extract::State;
            use axum::http::StatusCode;
            use utoipa_axum::router::OpenApiRouter;
            use utoipa_axum::routes;

            use super::*;
            use $crate::domain::objects;
            use $crate::http::AppState;
            use $crate::http::auth::{Admin, Viewer};
            use $crate::http::extract::{JsonBody, PathParams, QueryParams};
            use $crate::http::objects::DeleteParams;
            use $crate::http::problem::ApiError;
            use $crate::model::{Page, Stored};

            pub fn router() -> OpenApiRouter<AppState> {
                OpenApiRouter::new()
                    .routes(routes!(list, create))
                    .routes(routes!(get, replace, delete))
            }

            /// Lists one page, in key order, filtered.
            #[utoipa::path(
                get, path = $collection, operation_id = concat!("list_", stringify!($module)),
                tag = $tag,
                params($Params),
                responses((status = 200, body = Page<Stored<$View>>))
            )]
            pub async fn list(
                State(state): State<AppState>,
                _viewer: Viewer,
                QueryParams(params): QueryParams<$Params>,
            ) -> Result<Json<Page<Stored<$View>>>, ApiError> {
                let page = objects::list::<$Kind>(&state.store, &params.into_filter()?).await?;
                let items = page.items.iter().map(|record| record.view()).collect();
                Ok(Json(Page {
                    items,
                    next_cursor: page.next_cursor,
                }))
            }

            /// Creates one.
            #[utoipa::path(
                post, path = $collection, operation_id = concat!("create_", stringify!($singular)),
                tag = $tag,
                request_body = $Input,
                responses((status = 201, body = Stored<$View>))
            )]
            pub async fn create(
                State(state): State<AppState>,
                Admin(actor): Admin,
                JsonBody(input): JsonBody<$Input>,
            ) -> Result<(StatusCode, Json<Stored<$View>>), ApiError> {
                let record = objects::create::<$Kind>(&state.store, &actor, input).await?;
                Ok((StatusCode::CREATED, Json(record.view())))
            }

            /// Reads one.
            #[utoipa::path(
                get, path = $item, operation_id = concat!("get_", stringify!($singular)),
                tag = $tag,
                params(($key = String, Path)),
                responses((status = 200, body = Stored<$View>))
            )]
            pub async fn get(
                State(state): State<AppState>,
                _viewer: Viewer,
                PathParams(key): PathParams<String>,
            ) -> Result<Json<Stored<$View>>, ApiError> {
                Ok(Json(objects::get::<$Kind>(&state.store, &key).await?.view()))
            }

            /// Replaces one; its key cannot change.
            #[utoipa::path(
                put, path = $item, operation_id = concat!("replace_", stringify!($singular)),
                tag = $tag,
                params(($key = String, Path)),
                request_body = $Input,
                responses((status = 200, body = Stored<$View>))
            )]
            pub async fn replace(
                State(state): State<AppState>,
                Admin(actor): Admin,
                PathParams(key): PathParams<String>,
                JsonBody(input): JsonBody<$Input>,
            ) -> Result<Json<Stored<$View>>, ApiError> {
                Ok(Json(
                    objects::replace::<$Kind>(&state.store, &actor, &key, input)
                        .await?
                        .view(),
                ))
            }

            /// Deletes one. Refused while others refer to it, unless `cascade` is set.
            #[utoipa::path(
                delete, path = $item, operation_id = concat!("delete_", stringify!($singular)),
                tag = $tag,
                params(($key = String, Path), DeleteParams),
                responses((status = 204, description = "Deleted"))
            )]
            pub async fn delete(
                State(state): State<AppState>,
                Admin(actor): Admin,
                PathParams(key): PathParams<String>,
                QueryParams(params): QueryParams<DeleteParams>,
            ) -> Result<StatusCode, ApiError> {
                objects::delete::<$Kind>(&state.store, &actor, &key, params.cascade).await?;
                Ok(StatusCode::NO_CONTENT)
            }
        }
    };
}

pub(crate) use object_routes;
