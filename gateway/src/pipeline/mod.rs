//! The request path, in order: route → authenticate → authorize → rate-limit → validate → proxy.
//! Each step is a function over the per-request context that reads what earlier steps left and
//! returns a [`Refusal`] to stop. `docs/GATEWAY.md` draws the phases and their failure edges.

mod authenticate;
mod authorize;
mod rate_limit;
mod routing;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, HeaderValue, Request, Response};
use hyper::body::Incoming;

pub use authenticate::{Caller, Credential};
pub use routing::Routed;

use crate::proxy;
use crate::refusal::{Refusal, ResponseBody};
use crate::runtime::{Loaded, Runtime};
use crate::telemetry::Outcome;

/// The client at the other end of a connection, worked out once per connection.
#[derive(Debug)]
pub struct Peer {
    pub address: SocketAddr,
    /// The address as a header value, for `X-Forwarded-For`.
    pub ip: HeaderValue,
    /// Plain HTTP (with the TLS listener's port, for https redirects) or TLS.
    pub transport: crate::tls::Transport,
    /// The certificate the client presented in its TLS handshake, if any (consumer mTLS).
    pub client_certificate: Option<crate::tls::ClientCertificate>,
}

impl Peer {
    pub fn new(address: SocketAddr) -> Peer {
        let ip = HeaderValue::try_from(address.ip().to_string()).expect("an IP address is a valid header value");
        Peer {
            address,
            ip,
            transport: crate::tls::Transport::default(),
            client_certificate: None,
        }
    }
}

/// What the steps learn about a request, for the later steps, the metrics and the access log.
#[derive(Debug, Default)]
pub struct RequestContext {
    pub request_id: Option<HeaderValue>,
    pub routed: Option<Routed>,
    pub caller: Option<Caller>,
    /// Time spent waiting for the upstream's response headers.
    pub upstream_time: Option<std::time::Duration>,
    pub refusal: Option<&'static str>,
    /// The index, in the routed version's operations, of the OpenAPI operation matched.
    pub operation: Option<usize>,
    /// The plan (index in the snapshot's plans) of the rule that granted access.
    pub plan: Option<usize>,
    /// What the edge rules learnt (the client's address, an allowed CORS origin, a preflight).
    pub edge: crate::edge::EdgeContext,
    /// What shadowed policies and plans would have refused (`shadow`); empty without them.
    pub shadow: crate::shadow::ShadowRefusals,
    /// How the request arrived, for the https redirect (`tls`).
    pub transport: crate::tls::Transport,
    /// The body, read whole to be checked against the version's document (`validation`).
    pub validated_body: Option<bytes::Bytes>,
}

/// Handles one request on the snapshot current when it arrived; a swap meanwhile does not
/// affect it.
pub async fn handle(runtime: Arc<Runtime>, mut request: Request<Incoming>, peer: Arc<Peer>) -> Response<ResponseBody> {
    let started = Instant::now();
    // Trace: a server span continuing the client's W3C trace context, when OTLP is on.
    let span = runtime.telemetry.start_span(&mut request);
    let loaded = runtime.current();
    let mut context = RequestContext {
        request_id: Some(runtime.request_id(request.headers())),
        edge: crate::edge::EdgeContext::new(peer.address.ip()),
        transport: peer.transport,
        ..Default::default()
    };
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = match steps(&runtime, &loaded, &mut request, &peer, &mut context).await {
        // A CORS preflight, answered by the gateway (the edge step found it before authenticating).
        Ok(_) if context.edge.preflight => Ok(crate::edge::preflight_response(&loaded, &context)),
        Ok(limit_headers) => proxy::forward(&loaded, request, &peer, limit_headers, &mut context).await,
        Err(refusal) => Err(refusal),
    };
    let mut response = response.unwrap_or_else(|refusal| {
        context.refusal = Some(refusal.rule());
        let request_id = context.request_id.as_ref().and_then(|id| id.to_str().ok());
        refusal.into_response(request_id)
    });
    if let Some(request_id) = &context.request_id {
        response.headers_mut().insert(proxy::REQUEST_ID, request_id.clone());
    }
    // CORS: an allowed origin's answers carry its headers, refusals too, so a page can read them.
    if context.edge.allow_origin.is_some() {
        crate::edge::decorate(&loaded, &mut context, &mut response);
    }
    // Shadow: a would-be refusal is told to the client too, so that its owner sees it coming.
    if !context.shadow.is_empty() {
        let value = context.shadow.header_value();
        response.headers_mut().insert(crate::shadow::SHADOW_REFUSAL, value);
    }
    // Lifecycle: a deprecated version's signals, precomputed, on every answer it gives.
    if let Some(lifecycle) = lifecycle_of(&loaded, &context) {
        lifecycle.apply(response.headers_mut());
    }
    let outcome = Outcome {
        loaded: &loaded,
        context: &context,
        method: &method,
        path: uri.path(),
        status: response.status(),
        started,
    };
    runtime.telemetry.record(&outcome);
    runtime.telemetry.end_span(span, &outcome);
    response
}

/// The lifecycle signals of the version a request was routed to, when it sends any.
fn lifecycle_of<'a>(loaded: &'a Loaded, context: &RequestContext) -> Option<&'a crate::lifecycle::Lifecycle> {
    let routed = context.routed?;
    loaded.compiled.apis[routed.api].versions[routed.version?]
        .lifecycle
        .as_deref()
}

/// The enforcement steps before proxying; each reads what the earlier ones left in `context`.
/// Returns the rate-limit headers the response will carry.
async fn steps(
    runtime: &Runtime,
    loaded: &Loaded,
    request: &mut Request<Incoming>,
    peer: &Peer,
    context: &mut RequestContext,
) -> Result<HeaderMap, Refusal> {
    // Route: host and longest path prefix, then the version by its selector.
    let routed = routing::route(&loaded.compiled, request)?;
    let api = &loaded.compiled.apis[routed.api];
    context.routed = Some(routed);
    // HTTPS redirect: a plain-HTTP request to an API served over https only gets a 308.
    if api.https_redirect {
        crate::tls::require_https(api, context.transport, request)?;
    }
    // Edge: IP lists, a CORS preflight (answered before credentials, which it never carries),
    // a declared body over the limit; `None` for an API without edge rules.
    if let Some(edge) = &api.edge {
        crate::edge::admit(edge, api, request, &mut context.edge)?;
        if context.edge.preflight {
            return Ok(HeaderMap::new());
        }
    }
    // Authenticate: an API key (by hash), a JWT from a trusted issuer, or the connection's
    // client certificate (by fingerprint) where the API takes one.
    let caller = authenticate::authenticate(loaded, api, request, peer).await?;
    // Kept before authorizing, so that a 403 is told (metrics, access log, usage) with its caller.
    let caller = context.caller.insert(caller);
    // Authorize: the caller's groups must hold a rule for this API, version, method and
    // operation, whose policy's IP lists take the client address.
    let client = crate::access::ClientAddress::from_edge(context.edge.client);
    let (operation, grant) = authorize::authorize(&loaded.compiled, api, &routed, caller, request, client);
    // Rate-limit: the plan of the rule that granted access, per consumer or application.
    let limited = match grant {
        Ok(grant) => {
            context.shadow.policy = grant.shadow_policy;
            Ok((grant.plan, rate_limit::check(runtime, loaded, grant.plan, caller).await))
        }
        Err(refusal) => Err(refusal),
    };
    // For the metrics: a refusal is told with the operation, and a limit's with its plan.
    context.operation = operation;
    let (plan, limited) = limited?;
    context.plan = Some(plan);
    // Shadow: a shadowed plan never refuses; its would-be refusal is recorded instead.
    let limit_headers = if loaded.compiled.plans[plan].shadow {
        crate::shadow::plan_verdict(limited, &loaded.plan_limits[plan], &mut context.shadow)?
    } else {
        limited?
    };
    // Validate: a version that opts in takes only what its OpenAPI document describes.
    context.validated_body = validate::validate(api, &routed, request).await?;
    Ok(limit_headers)
}
