//! The gateway's listeners: the proxy port (HTTP/1.1 and HTTP/2, with upgrades) and the admin
//! port (`/healthz`, `/readyz`, `/config`, `/metrics`). Both shut down gracefully: connections
//! in flight finish, within a grace period.

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

/// Serves proxied traffic until `shutdown` completes.
pub async fn serve_proxy(listener: TcpListener, runtime: Arc<Runtime>, shutdown: impl Future<Output = ()>) {
    serve(listener, shutdown, move |client| {
        let runtime = runtime.clone();
        let peer = Arc::new(crate::pipeline::Peer::new(client));
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
    serve(listener, shutdown, move |_client| {
        let runtime = runtime.clone();
        service_fn(move |request| {
            let runtime = runtime.clone();
            async move { Ok::<_, Infallible>(crate::admin::handle(&runtime, &request).await) }
        })
    })
    .await
}

async fn serve<S, B>(listener: TcpListener, shutdown: impl Future<Output = ()>, make_service: impl Fn(SocketAddr) -> S)
where
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
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), make_service(client));
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
