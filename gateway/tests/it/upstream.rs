//! A real upstream on loopback: echoes what it received as JSON, streams request bodies back
//! as they arrive, answers WebSocket upgrades with an echo, and can be told to fail.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// A running upstream; stops when dropped.
pub struct Upstream {
    pub address: SocketAddr,
    pub hits: Arc<AtomicU64>,
    /// Connections accepted.
    pub connections: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Starts an upstream named `name` (it says so in every answer).
    pub async fn start(name: &'static str) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicU64::new(0));
        let counter = hits.clone();
        let connections = Arc::new(AtomicU64::new(0));
        let accepted = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                accepted.fetch_add(1, Ordering::Relaxed);
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        counter.fetch_add(1, Ordering::Relaxed);
                        answer(name, request)
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Upstream {
            address,
            hits,
            connections,
            task,
        }
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

type Body = BoxBody<Bytes, hyper::Error>;

async fn answer(name: &'static str, mut request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    if path.ends_with("/stream") {
        // Echo each chunk as it arrives: the client sees its first chunk back before it has
        // sent the rest, which only works if nobody in between buffers the body.
        let body = request.into_body().map_err(|error| error).boxed();
        let mut response = Response::new(body);
        response.headers_mut().insert("x-upstream", name.parse().unwrap());
        return Ok(response);
    }
    if path.ends_with("/ws") {
        return Ok(websocket_echo(&mut request));
    }
    if path.contains("/slow") {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    if path.contains("/fail") {
        return Ok(json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "upstream": name }),
        ));
    }
    let headers: serde_json::Map<String, serde_json::Value> = request
        .headers()
        .iter()
        .map(|(key, value)| {
            (
                key.to_string(),
                serde_json::Value::String(value.to_str().unwrap_or("").to_owned()),
            )
        })
        .collect();
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "upstream": name, "method": method, "uri": uri, "headers": headers, "body_len": body.len() }),
    ))
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    let body = Full::new(Bytes::from(value.to_string()))
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    response.headers_mut().insert("connection", "x-hop".parse().unwrap());
    response
        .headers_mut()
        .insert("x-hop", "must not reach the client".parse().unwrap());
    response
}

fn websocket_echo(request: &mut Request<Incoming>) -> Response<Body> {
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    let key = request
        .headers()
        .get("sec-websocket-key")
        .cloned()
        .unwrap_or(http::HeaderValue::from_static(""));
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        use futures_util::{SinkExt, StreamExt};
        let Ok(upgraded) = upgrade.await else { return };
        let stream = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            tokio_tungstenite::tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        let (mut sink, mut source) = stream.split();
        while let Some(Ok(message)) = source.next().await {
            if message.is_close() {
                break;
            }
            if sink.send(message).await.is_err() {
                break;
            }
        }
    });
    let mut response = Response::new(Full::new(Bytes::new()).map_err(|never| match never {}).boxed());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert("connection", "upgrade".parse().unwrap());
    headers.insert("upgrade", "websocket".parse().unwrap());
    headers.insert(
        "sec-websocket-accept",
        derive_accept_key(key.as_bytes()).parse().unwrap(),
    );
    response
}

/// A body that yields the given chunks when the test pushes them.
pub fn channel_body() -> (
    tokio::sync::mpsc::Sender<Bytes>,
    StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>>>,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(4);
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (Ok(Frame::data(chunk)), receiver))
    });
    (sender, StreamBody::new(stream))
}
