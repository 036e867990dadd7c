//! Per-API edge rules: CORS, IP allow and deny lists, a request body limit, header transforms and
//! a path rewrite. Compiled when the snapshot loads into [`CompiledEdge`], held by an API as an
//! `Option`, so an API without rules pays one branch. `docs/GATEWAY.md` shows where each rule sits
//! in the request path: [`admit`] runs right after routing, before any credential is read (a
//! preflight carries none, and a refused address should learn nothing); the transforms and the
//! streamed body count run in `proxy`; [`decorate`] adds CORS headers to every answer.

pub mod body;
pub mod cidr;
pub mod cors;
pub mod headers;
pub mod rewrite;

use std::net::IpAddr;

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{Either, Full};

use crate::compiled::{CompileError, CompiledApi, Problems};
use crate::pipeline::RequestContext;
use crate::refusal::{Refusal, ResponseBody};
use crate::runtime::Loaded;
use crate::snapshot::EdgeSpec;
use cidr::{CidrSet, IpLists};
use cors::{Check, Cors};
use headers::HeaderRules;
use rewrite::PathRewrite;

/// Largest `max_body_bytes`: 1 TiB, which is "no limit" in practice but keeps the count exact.
pub const MAX_BODY_LIMIT: u64 = 1 << 40;
/// Most CIDRs one list may hold.
pub const MAX_CIDRS: usize = 1_000;

/// An API's edge rules, ready for requests.
#[derive(Debug)]
pub struct CompiledEdge {
    pub cors: Option<Cors>,
    /// `None` when the API lists neither allowed nor denied addresses.
    pub ip: Option<IpLists>,
    /// Proxies whose `X-Forwarded-For` is believed; the client address they give is also what
    /// the access policies' IP lists are checked against.
    pub trusted_proxies: CidrSet,
    pub max_body_bytes: Option<u64>,
    pub request_headers: Option<HeaderRules>,
    pub response_headers: Option<HeaderRules>,
    pub path_rewrite: Option<PathRewrite>,
}

/// What [`admit`] learnt, for the steps after it.
#[derive(Debug, Default)]
pub struct EdgeContext {
    /// `Access-Control-Allow-Origin` for an allowed origin; every answer then carries CORS headers.
    pub allow_origin: Option<HeaderValue>,
    /// The request was a preflight, answered by the gateway.
    pub preflight: bool,
    /// The connection's peer address.
    pub peer: Option<IpAddr>,
    /// The client's address, for every IP rule (the API's and its access policies'): the peer's,
    /// or behind the API's trusted proxies the forwarded one; `None` when a forwarded hop that
    /// would decide cannot be read, which every IP rule refuses.
    pub client: Option<IpAddr>,
}

impl EdgeContext {
    pub fn new(peer: IpAddr) -> EdgeContext {
        EdgeContext {
            peer: Some(peer),
            client: Some(peer.to_canonical()),
            ..EdgeContext::default()
        }
    }
}

impl CompiledEdge {
    /// `None` for an API without rules. `field` names the spec in problems (`apis[0].edge`).
    pub(crate) fn compile(spec: Option<&EdgeSpec>, field: &str, problems: &mut Problems) -> Option<Box<CompiledEdge>> {
        let spec = spec?;
        let cors = spec
            .cors
            .as_ref()
            .map(|cors| Cors::compile(cors, &format!("{field}.cors"), problems));
        let allow = compile_cidrs(&spec.ip_allow, &format!("{field}.ip_allow"), problems);
        let deny = compile_cidrs(&spec.ip_deny, &format!("{field}.ip_deny"), problems);
        let trusted_proxies = compile_cidrs(&spec.trusted_proxies, &format!("{field}.trusted_proxies"), problems);
        let ip = (!allow.is_empty() || !deny.is_empty()).then_some(IpLists { allow, deny });
        if let Some(limit) = spec.max_body_bytes
            && limit > MAX_BODY_LIMIT
        {
            problems.push(
                format!("{field}.max_body_bytes"),
                format!("must be at most {MAX_BODY_LIMIT} (1 TiB)"),
            );
        }
        let request_headers =
            HeaderRules::compile(&spec.request_headers, &format!("{field}.request_headers"), problems);
        let response_headers =
            HeaderRules::compile(&spec.response_headers, &format!("{field}.response_headers"), problems);
        let path_rewrite = spec
            .path_rewrite
            .as_ref()
            .and_then(|rewrite| PathRewrite::compile(rewrite, &format!("{field}.path_rewrite"), problems));
        Some(Box::new(CompiledEdge {
            cors,
            ip,
            trusted_proxies,
            max_body_bytes: spec.max_body_bytes,
            request_headers,
            response_headers,
            path_rewrite,
        }))
    }
}

/// A list of CIDRs from a snapshot, its problems named `field[index]`: an API's lists, and an
/// access rule's.
pub(crate) fn compile_cidrs(entries: &[String], field: &str, problems: &mut Problems) -> CidrSet {
    if entries.len() > MAX_CIDRS {
        problems.push(field, format!("must list at most {MAX_CIDRS} networks"));
    }
    let (set, errors) = CidrSet::parse(entries);
    for (index, error) in errors {
        problems.push(format!("{field}[{index}]"), error);
    }
    set
}

/// Checks edge rules without a snapshot, for the hub: every problem, with its field under `edge`.
pub fn check(spec: &EdgeSpec) -> Vec<CompileError> {
    let mut problems = Problems::default();
    CompiledEdge::compile(Some(spec), "edge", &mut problems);
    problems.0
}

/// Checks a list of CIDRs, for the hub's access policies: each problem with the entry's index.
pub fn check_cidrs(entries: &[String]) -> Vec<(usize, String)> {
    CidrSet::parse(entries).1
}

/// The edge step, right after routing: the client address, IP lists, then CORS (answering a preflight), then a
/// declared body size over the limit.
pub fn admit<B>(
    edge: &CompiledEdge,
    api: &CompiledApi,
    request: &Request<B>,
    context: &mut EdgeContext,
) -> Result<(), Refusal> {
    // Behind trusted proxies the client is a forwarded hop; without them it stays the peer.
    if !edge.trusted_proxies.is_empty() {
        context.client = context
            .peer
            .and_then(|peer| cidr::client_address(peer, request.headers(), &edge.trusted_proxies));
    }
    if let Some(list) = edge.ip.as_ref().and_then(|ip| ip.refusing(context.client)) {
        return Err(Refusal::IpDenied {
            address: context
                .client
                .map_or_else(|| "unknown".to_owned(), |address| address.to_string()),
            list: format!("{} list of API `{}`", list.field(), api.name),
        });
    }
    if let Some(cors) = &edge.cors {
        match cors.check(request) {
            Check::None => {}
            Check::Allowed(origin) => context.allow_origin = Some(origin),
            Check::Preflight(origin) => {
                context.allow_origin = Some(origin);
                context.preflight = true;
                return Ok(());
            }
            Check::PreflightDenied(origin) => {
                return Err(Refusal::CorsOriginDenied {
                    api: api.name.to_string(),
                    origin,
                });
            }
        }
    }
    if let Some(limit) = edge.max_body_bytes {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|length| length.to_str().ok())
            .and_then(|length| length.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(Refusal::BodyTooLarge {
                api: api.name.to_string(),
                limit,
            });
        }
    }
    Ok(())
}

/// The gateway's answer to an allowed preflight: 204 with what the API allows.
pub fn preflight_response(loaded: &Loaded, context: &RequestContext) -> Response<ResponseBody> {
    let mut response = Response::new(Either::Right(Full::default()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Some(cors) = edge_of(loaded, context).and_then(|edge| edge.cors.as_ref()) {
        cors.preflight(response.headers_mut());
    }
    response
}

fn edge_of<'a>(loaded: &'a Loaded, context: &RequestContext) -> Option<&'a CompiledEdge> {
    loaded.compiled.apis[context.routed?.api].edge.as_deref()
}

/// Adds the CORS headers to an answer for an allowed origin (a refusal too, so the page can read
/// its problem+json).
pub fn decorate(loaded: &Loaded, context: &mut RequestContext, response: &mut Response<ResponseBody>) {
    let cors = edge_of(loaded, context).and_then(|edge| edge.cors.as_ref());
    if let (Some(origin), Some(cors)) = (context.edge.allow_origin.take(), cors) {
        cors.decorate(origin, response.headers_mut());
    }
}

#[cfg(test)]
mod tests;
