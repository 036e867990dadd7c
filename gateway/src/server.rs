//! The gateway's listeners: the proxy port (HTTP/1.1 and HTTP/2, with upgrades) and the admin
//! port (`/healthz`, `/readyz`, `/config`, `/metrics`), and the proxy's TLS listener, which runs
//! the handshake (`tls`) in the connection's task and then serves the same way. All shut down
//! gracefully: connections in flight finish, within a grace period.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::runtime::Runtime;

/// How long connections get to finish after shutdown begins.
pub const GRACE_PERIOD: Duration = Duration::from_secs(10);

/// What a proxy listener speaks.
#[derive(Clone)]
pub enum ProxyListener {
    /// Plain HTTP; `https_port` is the TLS listener's, for https redirects.
    Plain { https_port: Option<u16> },
    /// TLS, terminated here.
    Tls(Arc<crate::tls::EdgeTls>),
}

/// Serves proxied plain HTTP until `shutdown` completes.
pub async fn serve_proxy(listener: TcpListener, runtime: Arc<Runtime>, shutdown: impl Future<Output = ()>) {
    serve_proxy_on(listener, runtime, ProxyListener::Plain { https_port: None }, shutdown).await
}

/// Serves proxied traffic, plain or over TLS, until `shutdown` completes.
pub async fn serve_proxy_on(
    listener: TcpListener,
    runtime: Arc<Runtime>,
    kind: ProxyListener,
    shutdown: impl Future<Output = ()>,
) {
    let (transport, tls) = match kind {
        ProxyListener::Plain { https_port } => (crate::tls::Transport::Plain { https_port }, None),
        ProxyListener::Tls(tls) => (crate::tls::Transport::Tls, Some(tls)),
    };
    serve(listener, shutdown, tls, move |client, client_certificate| {
        let runtime = runtime.clone();
        let mut peer = crate::pipeline::Peer::new(client);
        peer.transport = transport;
        peer.client_certificate = client_certificate;
        let peer = Arc::new(peer);
        service_fn(move |request| {
            let runtime = runtime.clone();
            let peer = peer.clone();
            async move { Ok::<_, Infallible>(crate::pipeline::handle(runtime, request, peer).await) }
        })
    })
    .await
}

/// Serves the admin port until `shutdown` completes.
pub async fn serve_admin(listener: TcpListener, runtime: Arc<Runtime>, shutdown: impl Future<Output = ()>) {
    serve(listener, shutdown, None, move |_client, _| {
        let runtime = runtime.clone();
        service_fn(move |request| {
            let runtime = runtime.clone();
            async move { Ok::<_, Infallible>(crate::admin::handle(&runtime, &request).await) }
        })
    })
    .await
}

async fn serve<S, B>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    tls: Option<Arc<crate::tls::EdgeTls>>,
    make_service: impl Fn(SocketAddr, Option<crate::tls::ClientCertificate>) -> S + Send + Sync + 'static,
) where
    S: hyper::service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>, Error = Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let make_service = Arc::new(make_service);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                if let Some(tls) = &tls {
                    // The handshake runs in the connection's task, so a slow client holds up no other.
                    let (tls, builder, make_service) = (tls.clone(), builder.clone(), make_service.clone());
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let connection = match tls.accept(stream).await {
                            Ok(connection) => connection,
                            Err(error) => return tracing::debug!(%error, %client, "TLS handshake failed"),
                        };
                        let service = make_service(client, connection.client_certificate);
                        let connection = builder.serve_connection_with_upgrades(TokioIo::new(connection.stream), service);
                        if let Err(error) = watcher.watch(connection.into_owned()).await {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                    });
                    continue;
                }
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), make_service(client, None));
                let connection = graceful.watch(connection.into_owned());
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    if tokio::time::timeout(GRACE_PERIOD, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the grace period; closing them");
    }
}
