//! The https redirect: an API with `https_redirect` answers plain-HTTP requests with a 308 to the
//! same URL over https (the TLS listener's port, unless it is 443). 308 rather than 301 keeps the
//! method and body, so a POST is repeated as a POST.

use http::{HeaderValue, Request};

use crate::compiled::CompiledApi;
use crate::refusal::Refusal;

/// How a connection reached the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP; `https_port` is the TLS listener's port, when this gateway has one.
    Plain { https_port: Option<u16> },
    /// Over the TLS listener.
    Tls,
}

impl Default for Transport {
    fn default() -> Self {
        Transport::Plain { https_port: None }
    }
}

/// Refuses a plain-HTTP request with [`Refusal::HttpsRequired`]; a request over TLS passes.
/// A request without a host (no `Host`, no authority) has nowhere to be sent, and passes too.
pub fn require_https<B>(api: &CompiledApi, transport: Transport, request: &Request<B>) -> Result<(), Refusal> {
    let Transport::Plain { https_port } = transport else {
        return Ok(());
    };
    let Some(location) = location(request, https_port) else {
        return Ok(());
    };
    Err(Refusal::HttpsRequired {
        api: api.name.to_string(),
        location,
    })
}

/// `https://host[:port]/path?query` for a request.
fn location<B>(request: &Request<B>, https_port: Option<u16>) -> Option<HeaderValue> {
    let authority = request
        .uri()
        .authority()
        .map(|authority| authority.as_str().to_owned())
        .or_else(|| {
            request
                .headers()
                .get(http::header::HOST)?
                .to_str()
                .ok()
                .map(str::to_owned)
        })?;
    let authority: http::uri::Authority = authority.parse().ok()?;
    let host = authority.host();
    let path = request.uri().path_and_query().map_or("/", |path| path.as_str());
    let location = match https_port {
        Some(port) if port != 443 => format!("https://{host}:{port}{path}"),
        _ => format!("https://{host}{path}"),
    };
    HeaderValue::try_from(location).ok()
}
