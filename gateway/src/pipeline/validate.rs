//! Step 5, validate: a version that opts in (`validation`) takes only requests that are one of
//! its OpenAPI document's operations and match it: parameters, and a JSON body against its
//! schema. A body that is checked is read whole here (within the API's body limit) and sent on
//! as read; every other body still streams. A version without validation costs one branch.

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Incoming};

use super::Routed;
use crate::compiled::CompiledApi;
use crate::refusal::Refusal;
use crate::validation::{
    BodyCheck, DEFAULT_BODY_LIMIT, MAX_LISTED, OperationMatch, RequestParts, Violation, check_json,
};

/// Checks the request against its version's document; returns the body when it was read to be
/// checked, for the proxy to send.
pub(super) async fn validate(
    api: &CompiledApi,
    routed: &Routed,
    request: &mut Request<Incoming>,
) -> Result<Option<Bytes>, Refusal> {
    let Some(version) = routed.version.map(|index| &api.versions[index]) else {
        return Ok(None);
    };
    let Some(validation) = version.validation.as_deref() else {
        return Ok(None);
    };
    let target = || format!("API `{}` {}", api.name, version.name);
    let rest = &request.uri().path()[(routed.prefix_len + routed.segment_len).min(request.uri().path().len())..];
    let path = if rest.is_empty() { "/" } else { rest };
    let operation = match validation.find(request.method().as_str(), path) {
        OperationMatch::Found(operation) => operation,
        OperationMatch::MethodNotAllowed(allow) => {
            return Err(Refusal::OperationUnknown {
                target: target(),
                method: request.method().to_string(),
                path: path.to_owned(),
                allow: Some(allow),
            });
        }
        OperationMatch::NotFound => {
            return Err(Refusal::OperationUnknown {
                target: target(),
                method: request.method().to_string(),
                path: path.to_owned(),
                allow: None,
            });
        }
    };
    let mut violations = Vec::new();
    let parts = RequestParts {
        method: request.method().as_str(),
        path,
        query: request.uri().query(),
        headers: request.headers(),
        api: Some(api),
    };
    operation.check_parameters(&parts, &mut violations);
    let mut checked = None;
    if let Some(body) = &operation.body {
        let has_body = !request.body().is_end_stream();
        let content_type = request.headers().get(http::header::CONTENT_TYPE);
        if let BodyCheck::Json(schema) = body.plan(content_type, has_body, &mut violations) {
            let limit = api
                .edge
                .as_deref()
                .and_then(|edge| edge.max_body_bytes)
                .unwrap_or(DEFAULT_BODY_LIMIT);
            let too_large = || Refusal::BodyTooLarge {
                api: api.name.to_string(),
                limit,
            };
            if request.body().size_hint().lower() > limit {
                return Err(too_large());
            }
            match Limited::new(request.body_mut(), limit as usize).collect().await {
                Ok(collected) => {
                    let bytes = collected.to_bytes();
                    check_json(schema, &bytes, &mut violations);
                    checked = Some(bytes);
                }
                Err(error) if error.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
                Err(error) => violations.push(Violation {
                    pointer: "#/body".into(),
                    detail: format!("the body could not be read: {error}"),
                }),
            }
        }
    }
    if violations.is_empty() {
        return Ok(checked);
    }
    let unlisted = violations.len().saturating_sub(MAX_LISTED);
    violations.truncate(MAX_LISTED);
    Err(Refusal::RequestInvalid {
        target: target(),
        operation: operation.name.clone(),
        violations,
        unlisted,
    })
}
