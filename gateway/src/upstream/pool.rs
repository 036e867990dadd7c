//! Connection pools to upstream targets: idle HTTP/1.1 connections per target, taken for one
//! request and given back when its response body has ended. Plain hyper `http1` connections in a
//! short-locked stack per target: hyper-util's pooled client spends about a quarter of a
//! proxied request's instructions on key hashing, checkout and channels (PERFORMANCE.md).
//!
//! Each proxy worker (`crate::workers`, one current-thread runtime per core) keeps its own idle
//! stack: a connection's task runs on the worker that opened it, so handing it to another
//! worker would wake a thread for every request. Threads that are not proxy workers share slot 0.
//!
//! A pooled connection the upstream closed meanwhile hands the request back unsent
//! (`try_send_request`), and the request goes on a fresh connection, so staleness never fails a
//! request.

use std::cell::Cell;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use super::ProxyBody;
use super::tls::UpstreamTls;

/// An https target's TLS, and the name its handshakes send in SNI and verify.
pub(crate) type TargetTls = (Arc<UpstreamTls>, ServerName<'static>);

/// Most idle connections kept per target, shared out among its worker slots.
const MAX_IDLE: usize = 512;
/// Idle connections older than this are closed rather than reused: upstreams commonly close
/// keep-alive connections after a minute or so.
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// Why a request could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("connecting to {authority} failed: {source}")]
    Connect { authority: String, source: std::io::Error },
    #[error("connecting to {authority} timed out")]
    ConnectTimeout { authority: String },
    #[error("the TLS handshake with {authority} failed: {source}")]
    Tls { authority: String, source: std::io::Error },
    #[error("the upstream connection failed: {0}")]
    Request(#[from] hyper::Error),
}

impl SendError {
    /// Whether no byte of the request reached the upstream, so another target may be tried.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            SendError::Connect { .. } | SendError::ConnectTimeout { .. } | SendError::Tls { .. }
        )
    }
}

/// The idle connections to one target, one stack per worker slot.
#[derive(Debug)]
pub struct TargetPool {
    authority: Authority,
    /// Present for an https target.
    tls: Option<TargetTls>,
    idle: Box<[Mutex<Vec<Idle>>]>,
}

thread_local! {
    /// This thread's slot in every pool: its proxy worker number, 0 for other threads.
    static WORKER_SLOT: Cell<usize> = const { Cell::new(0) };
}

/// Marks the calling thread as proxy worker `worker` (from 1): it takes and gives back
/// connections in its own slot.
pub fn set_worker_slot(worker: usize) {
    WORKER_SLOT.with(|slot| slot.set(worker));
}

#[derive(Debug)]
struct Idle {
    sender: SendRequest<ProxyBody>,
    since: Instant,
}

impl TargetPool {
    fn new(authority: Authority, tls: Option<TargetTls>, slots: usize) -> TargetPool {
        TargetPool {
            authority,
            tls,
            idle: (0..slots.max(1)).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// The calling thread's idle stack.
    fn slot(&self) -> &Mutex<Vec<Idle>> {
        let slot = WORKER_SLOT.with(Cell::get);
        &self.idle[if slot < self.idle.len() { slot } else { 0 }]
    }

    /// Sends a request on an idle connection, or a new one.
    pub async fn send(
        self: &Arc<Self>,
        mut request: Request<ProxyBody>,
        connect_timeout: Duration,
    ) -> Result<Response<PooledBody>, SendError> {
        while let Some(mut sender) = self.take() {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(self.wrap(response, sender)),
                Err(mut error) => match error.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(SendError::Request(error.into_error())),
                },
            }
        }
        let mut sender = self.connect(connect_timeout).await?;
        let response = sender.send_request(request).await?;
        Ok(self.wrap(response, sender))
    }

    fn take(&self) -> Option<SendRequest<ProxyBody>> {
        let mut idle = self.slot().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some(candidate) = idle.pop() {
            if !candidate.sender.is_closed() && candidate.since.elapsed() < IDLE_TIMEOUT {
                return Some(candidate.sender);
            }
        }
        None
    }

    fn give_back(&self, sender: SendRequest<ProxyBody>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.slot().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < (MAX_IDLE / self.idle.len()).max(1) {
            idle.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    async fn connect(&self, connect_timeout: Duration) -> Result<SendRequest<ProxyBody>, SendError> {
        let authority = self.authority.as_str();
        let port = self
            .authority
            .port_u16()
            .unwrap_or(if self.tls.is_some() { 443 } else { 80 });
        // The connect timeout covers the TLS handshake too: both are "reaching the target".
        tokio::time::timeout(connect_timeout, async {
            let stream = TcpStream::connect((self.authority.host(), port))
                .await
                .map_err(|source| SendError::Connect {
                    authority: authority.to_owned(),
                    source,
                })?;
            let _ = stream.set_nodelay(true);
            match &self.tls {
                None => handshake(TokioIo::new(stream)).await,
                Some((tls, server_name)) => {
                    let stream = tls
                        .connect(server_name.clone(), stream)
                        .await
                        .map_err(|source| SendError::Tls {
                            authority: authority.to_owned(),
                            source,
                        })?;
                    handshake(TokioIo::new(stream)).await
                }
            }
        })
        .await
        .map_err(|_| SendError::ConnectTimeout {
            authority: authority.to_owned(),
        })?
    }

    /// Ties the connection to the response body, which gives it back when it ends. An upgraded
    /// connection (101) is the tunnel's now and never comes back.
    fn wrap(self: &Arc<Self>, response: Response<Incoming>, sender: SendRequest<ProxyBody>) -> Response<PooledBody> {
        let upgraded = response.status() == StatusCode::SWITCHING_PROTOCOLS;
        response.map(|inner| {
            let mut body = PooledBody {
                inner,
                giveback: (!upgraded).then(|| (sender, self.clone())),
            };
            if body.inner.is_end_stream() {
                body.give_back();
            }
            body
        })
    }
}

/// Starts HTTP/1.1 on a connection (plain or TLS) and drives it in its own task.
async fn handshake<I>(io: I) -> Result<SendRequest<ProxyBody>, SendError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = http1::Builder::new().handshake(io).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.with_upgrades().await {
            tracing::debug!(%error, "upstream connection ended");
        }
    });
    Ok(sender)
}

/// An upstream response body that returns its connection to the pool when it ends.
#[derive(Debug)]
pub struct PooledBody {
    inner: Incoming,
    giveback: Option<(SendRequest<ProxyBody>, Arc<TargetPool>)>,
}

impl PooledBody {
    fn give_back(&mut self) {
        if let Some((sender, pool)) = self.giveback.take() {
            pool.give_back(sender);
        }
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(context);
        match &polled {
            Poll::Ready(None) => self.give_back(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.give_back(),
            // A failed body leaves the connection in an unknown state: never reuse it.
            Poll::Ready(Some(Err(_))) => self.giveback = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A pool's key: the target's authority and, for https, its TLS settings' id.
type PoolKey = (Authority, Option<[u8; 32]>);

/// Pools shared across snapshots, by target authority, so a snapshot swap keeps the warm
/// connections of the targets it keeps.
#[derive(Debug, Default)]
pub struct PoolCache {
    pools: Mutex<HashMap<PoolKey, Weak<TargetPool>>>,
    /// Idle stacks per pool: one per proxy worker, and slot 0.
    slots: usize,
}

impl PoolCache {
    /// Pools for `workers` proxy workers (plus slot 0 for every other thread).
    pub fn new(workers: usize) -> PoolCache {
        PoolCache {
            pools: Mutex::default(),
            slots: workers + 1,
        }
    }

    /// The pool of a target, made on first use.
    pub(crate) fn get(&self, authority: &Authority, tls: Option<TargetTls>) -> Arc<TargetPool> {
        let key = (authority.clone(), tls.as_ref().map(|(tls, _)| tls.id));
        let mut pools = self.pools.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(pool) = pools.get(&key).and_then(Weak::upgrade) {
            return pool;
        }
        pools.retain(|_, pool| pool.strong_count() > 0);
        let pool = Arc::new(TargetPool::new(authority.clone(), tls, self.slots));
        pools.insert(key, Arc::downgrade(&pool));
        pool
    }
}
