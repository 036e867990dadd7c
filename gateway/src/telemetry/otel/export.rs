//! The HTTP client the OTLP exporters post with: hyper over TCP, or rustls for https (as the
//! JWKS client), each request bounded by a deadline and each response by a size cap.
//!
//! The SDK calls it on its own batching threads, never on the gateway's runtime. Each of those
//! threads drives its requests on a current-thread Tokio runtime of its own, so an export (the
//! last one included, at shutdown) neither waits for nor blocks the gateway's runtime, even
//! while that runtime is stopping.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry_http::{HttpClient, HttpError};

/// A collector's answer is a small protobuf message; anything larger is refused.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// One exporter's client. Its pooled connections live on the runtime of the thread that
/// opened them, so each exporter (and so each SDK thread) has its own.
#[derive(Debug)]
pub struct ExportClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

thread_local! {
    /// The calling SDK thread's runtime, made on its first export, dropped when it ends.
    static EXPORT_RUNTIME: Result<tokio::runtime::Runtime, String> = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|error| error.to_string());
}

impl ExportClient {
    /// A client whose requests, connecting included, end after `timeout`.
    pub fn new(timeout: Duration) -> ExportClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("ring supports rustls's default protocol versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1)
            .build(https);
        ExportClient { client, timeout }
    }

    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let exchange = async {
            let response = self.client.request(request.map(Full::new)).await?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES).collect().await?.to_bytes();
            Ok::<_, HttpError>(Response::from_parts(parts, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_elapsed| format!("no answer within {:?}", self.timeout))?
    }
}

// Written out rather than through `async_trait`: the request runs to completion here, on the
// calling thread's runtime, and the future returned is already resolved.
impl HttpClient for ExportClient {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let result = if tokio::runtime::Handle::try_current().is_ok() {
            // Blocking here would stall a Tokio worker; the SDK's threads never get here.
            Err("an OTLP export was attempted on a Tokio thread".into())
        } else {
            EXPORT_RUNTIME.with(|runtime| match runtime {
                Ok(runtime) => runtime.block_on(self.send(request)),
                Err(error) => Err(format!("no runtime for OTLP exports: {error}").into()),
            })
        };
        Box::pin(std::future::ready(result))
    }
}
