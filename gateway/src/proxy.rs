//! Step 5, proxy: send the request to a healthy target and stream the answer back. Bodies are
//! never buffered; WebSocket upgrades become a tunnel; hop-by-hop headers stay on their hop;
//! `X-Forwarded-*` and the request id go upstream; a connect failure of a request without a body
//! and with an idempotent method is retried on another target.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::compiled::CompiledApi;
use crate::edge::body::RequestBody;
use crate::pipeline::{Peer, RequestContext, Routed};
use crate::refusal::{Refusal, ResponseBody};
use crate::runtime::Loaded;
use crate::upstream::{Target, Upstream};

/// The request id header, set on the way up and on the way back.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
/// Who the gateway authenticated, for the upstream; never taken from the client.
pub const CALLER_USER: HeaderName = HeaderName::from_static("x-gatehouse-user");
pub const CALLER_APPLICATION: HeaderName = HeaderName::from_static("x-gatehouse-application");

const HOP_BY_HOP_COUNT: usize = 8;
/// Headers that describe one hop (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [HeaderName; HOP_BY_HOP_COUNT] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// Forwards an authorised request and returns the upstream's response, with `limit_headers`.
pub async fn forward(
    loaded: &Loaded,
    mut request: Request<Incoming>,
    peer: &Peer,
    limit_headers: HeaderMap,
    context: &mut RequestContext,
) -> Result<Response<ResponseBody>, Refusal> {
    let routed = context.routed.expect("routed before proxying");
    let api = &loaded.compiled.apis[routed.api];
    let upstream: &Upstream = routed
        .version
        .and_then(|index| api.versions[index].upstream.as_deref())
        .unwrap_or(&api.upstream);
    let upgrade = is_upgrade(request.headers()).then(|| hyper::upgrade::on(&mut request));
    let (parts, body) = request.into_parts();
    let mut headers = parts.headers;
    // Room for what goes on below (forwarding, identity, request id, host) in one growth, not
    // one per insert.
    headers.reserve(8);
    prepare_headers(&mut headers, api, peer, &parts.uri, upgrade.is_some());
    // Edge: the API's request header transforms, before the gateway's own headers go on.
    let edge = api.edge.as_deref();
    if let Some(rules) = edge.and_then(|edge| edge.request_headers.as_ref()) {
        rules.apply(&mut headers);
    }
    if let Some(request_id) = &context.request_id {
        headers.insert(REQUEST_ID, request_id.clone());
    }
    if let Some(caller) = &context.caller {
        if let Ok(user) = HeaderValue::from_str(&caller.user) {
            headers.insert(CALLER_USER, user);
        }
        if let Some(application) = caller
            .application
            .as_deref()
            .and_then(|application| HeaderValue::from_str(application).ok())
        {
            headers.insert(CALLER_APPLICATION, application);
        }
    }
    let retryable = is_idempotent(&parts.method) && has_no_body(&headers) && upgrade.is_none();
    // A retry goes to another target; with one target there is none, and no headers to keep.
    let mut attempts_left = if retryable && upstream.targets.len() > 1 {
        upstream.retries
    } else {
        0
    };
    let mut body = Some(body);
    let mut exclude = None;
    loop {
        let now = now_ms();
        let target_index = upstream
            .pick(now, exclude)
            .ok_or_else(|| Refusal::UpstreamUnavailable {
                api: api.name.to_string(),
            })?;
        let target = &upstream.targets[target_index];
        let Some(pool) = target.pool.as_ref() else {
            return Err(Refusal::UpstreamUnavailable {
                api: api.name.to_string(),
            });
        };
        let mut outgoing = Request::new(match (body.take(), context.validated_body.take()) {
            // Read whole and checked already (`validation`).
            (_, Some(checked)) => Either::Right(Full::new(checked)),
            // Counted as it streams when the API limits bodies (edge `max_body_bytes`).
            (Some(incoming), None) => {
                Either::Left(RequestBody::new(incoming, edge.and_then(|edge| edge.max_body_bytes)))
            }
            (None, None) => Either::Right(Full::new(Bytes::new())),
        });
        *outgoing.method_mut() = parts.method.clone();
        *outgoing.uri_mut() = upstream_uri(api, &routed, &parts.uri, target);
        *outgoing.headers_mut() = if attempts_left > 0 {
            headers.clone()
        } else {
            std::mem::take(&mut headers)
        };
        outgoing.headers_mut().insert(header::HOST, target.host_header.clone());
        let sent = Instant::now();
        let result = tokio::time::timeout(upstream.read_timeout, pool.send(outgoing, upstream.connect_timeout)).await;
        context.upstream_time = Some(sent.elapsed());
        match result {
            Ok(Ok(mut response)) => {
                let status = response.status();
                let failed = matches!(
                    status,
                    StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
                );
                // A success needs no time; a failure's ejection counts from now, not the pick.
                upstream.record(target_index, !failed, if failed { now_ms() } else { now });
                if status == StatusCode::SWITCHING_PROTOCOLS {
                    if let Some(client_upgrade) = upgrade {
                        tunnel(client_upgrade, hyper::upgrade::on(&mut response));
                    }
                } else {
                    remove_hop_by_hop(response.headers_mut());
                }
                let (mut response_parts, response_body) = response.into_parts();
                // Edge: the API's response header transforms, before the gateway's own headers.
                if let Some(rules) = edge.and_then(|edge| edge.response_headers.as_ref()) {
                    rules.apply(&mut response_parts.headers);
                }
                response_parts.headers.extend(limit_headers);
                return Ok(Response::from_parts(response_parts, Either::Left(response_body)));
            }
            Ok(Err(error)) => {
                // The client's body passed the limit while streaming: the client's fault, not the target's.
                if let Some(too_large) = edge.and(crate::edge::body::too_large(&error)) {
                    return Err(Refusal::BodyTooLarge {
                        api: api.name.to_string(),
                        limit: too_large.limit,
                    });
                }
                upstream.record(target_index, false, now_ms());
                if error.is_connect() && attempts_left > 0 {
                    attempts_left -= 1;
                    exclude = Some(target_index);
                    tracing::debug!(target = %target.url, %error, "connect failed; retrying on another target");
                    continue;
                }
                tracing::warn!(api = %api.name, target = %target.url, error = %error, "upstream request failed");
                return Err(Refusal::UpstreamUnavailable {
                    api: api.name.to_string(),
                });
            }
            Err(_elapsed) => {
                upstream.record(target_index, false, now_ms());
                return Err(Refusal::UpstreamTimeout {
                    api: api.name.to_string(),
                });
            }
        }
    }
}

/// The request target at the upstream: its base path, then the request path (without the API's prefix and
/// version segment when the API strips them), then the query.
fn upstream_uri(api: &CompiledApi, routed: &Routed, original: &Uri, target: &Target) -> Uri {
    if let Some(rewrite) = api.edge.as_ref().and_then(|edge| edge.path_rewrite.as_ref()) {
        return rewrite.upstream_uri(api.strip_prefix, routed, original, &target.base_path);
    }
    let path_and_query = if target.base_path.is_empty() && !api.strip_prefix {
        original
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"))
    } else {
        let path = original.path();
        let rest = if api.strip_prefix {
            &path[(routed.prefix_len + routed.segment_len).min(path.len())..]
        } else {
            path
        };
        let mut joined = String::with_capacity(
            target.base_path.len() + rest.len() + 1 + original.query().map_or(0, |q| q.len() + 1),
        );
        joined.push_str(&target.base_path);
        if !rest.starts_with('/') {
            joined.push('/');
        }
        joined.push_str(rest);
        if let Some(query) = original.query() {
            joined.push('?');
            joined.push_str(query);
        }
        PathAndQuery::try_from(joined).unwrap_or_else(|_| PathAndQuery::from_static("/"))
    };
    // Origin form (path and query): the connection already names the target, and `Host` is set.
    Uri::from(path_and_query)
}

/// Removes hop-by-hop headers and the client's credential, and adds `X-Forwarded-*`.
fn prepare_headers(headers: &mut HeaderMap, api: &CompiledApi, peer: &Peer, uri: &Uri, upgrade: bool) {
    let original_host = uri
        .authority()
        .and_then(|authority| HeaderValue::from_str(authority.as_str()).ok())
        .or_else(|| headers.get(header::HOST).cloned());
    if upgrade {
        // An upgrade keeps `Connection: upgrade` and `Upgrade` for the upstream to answer 101.
        for name in &HOP_BY_HOP[1..] {
            headers.remove(name);
        }
    } else {
        remove_hop_by_hop(headers);
    }
    // The credential and the identity headers are rarely all there: look before removing.
    let (mut credential, mut identity) = (false, false);
    for name in headers.keys() {
        credential |= *name == api.api_key_header;
        identity |= name == CALLER_USER || name == CALLER_APPLICATION;
    }
    if credential {
        headers.remove(&api.api_key_header);
    }
    if identity {
        headers.remove(CALLER_USER);
        headers.remove(CALLER_APPLICATION);
    }
    let earlier = headers.get(&X_FORWARDED_FOR).and_then(|value| value.to_str().ok());
    let forwarded_for = match earlier {
        Some(earlier) => HeaderValue::try_from(format!("{earlier}, {}", peer.address.ip())).ok(),
        None => Some(peer.ip.clone()),
    };
    if let Some(value) = forwarded_for {
        headers.insert(X_FORWARDED_FOR, value);
    }
    // The scheme the client used: an upstream behind the TLS listener builds https links.
    let proto = match peer.transport {
        crate::tls::Transport::Tls => "https",
        crate::tls::Transport::Plain { .. } => "http",
    };
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    if let Some(host) = original_host {
        headers.insert(X_FORWARDED_HOST, host);
    }
}

fn remove_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry at most `Connection` (upstreams answer `Connection: keep-alive`): look
    // first, with plain comparisons, and remove only what is there (each removal hashes the name).
    let mut present = [false; HOP_BY_HOP_COUNT];
    let mut upgrade = false;
    let mut any = false;
    for name in headers.keys() {
        if let Some(index) = HOP_BY_HOP.iter().position(|hop| hop == name) {
            present[index] = true;
            any = true;
        } else if name == header::UPGRADE {
            upgrade = true;
            any = true;
        }
    }
    if !any {
        return;
    }
    // Headers named in `Connection` are hop-by-hop too.
    let named: Vec<HeaderName> = if present[0] {
        headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|name| !name.eq_ignore_ascii_case("close") && !name.eq_ignore_ascii_case("keep-alive"))
            .filter(|name| !name.eq_ignore_ascii_case("upgrade"))
            .filter_map(|name| HeaderName::try_from(name).ok())
            .collect()
    } else {
        Vec::new()
    };
    for name in &named {
        headers.remove(name);
    }
    for (name, present) in HOP_BY_HOP.iter().zip(present) {
        if present {
            headers.remove(name);
        }
    }
    if upgrade {
        headers.remove(header::UPGRADE);
    }
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| {
                value
                    .split(',')
                    .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
            })
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    )
}

fn has_no_body(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::TRANSFER_ENCODING)
        && headers
            .get(header::CONTENT_LENGTH)
            .is_none_or(|length| length.as_bytes() == b"0")
}

/// Joins the client's and the upstream's upgraded connections until either side closes.
fn tunnel(client: hyper::upgrade::OnUpgrade, upstream: hyper::upgrade::OnUpgrade) {
    tokio::spawn(async move {
        match tokio::join!(client, upstream) {
            (Ok(client), Ok(upstream)) => {
                let (mut client, mut upstream) = (TokioIo::new(client), TokioIo::new(upstream));
                if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                    tracing::debug!(%error, "upgraded connection ended");
                }
            }
            (client, upstream) => {
                tracing::debug!(client = client.is_ok(), upstream = upstream.is_ok(), "upgrade failed")
            }
        }
    });
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}
