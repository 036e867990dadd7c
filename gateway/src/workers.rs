//! Proxy workers: one OS thread per core, each with its own current-thread tokio runtime and its
//! own listener on the proxy address (`SO_REUSEPORT`, so the kernel spreads connections), the
//! way nginx runs a worker per core. A connection, its requests and its upstream connections
//! stay on one thread: no work stealing, no cross-thread wake-ups on the request path.
//! (PERFORMANCE.md measured a current-thread runtime ~7 % faster than a one-worker multi-thread
//! one; `bench/run` here saw about the same throughput for one worker. What it buys is scaling
//! over cores without a shared scheduler.)
//! Everything else (admin port, snapshot sources, health checks) stays on the main runtime.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;

use crate::runtime::Runtime;

/// The proxy listeners, bound before the workers start so that an address in use fails the
/// start. (Each worker builds its runtime on its own thread: a runtime may not be dropped in
/// async code, as it would be here if the start failed later.)
pub struct ProxyListeners {
    listeners: Vec<std::net::TcpListener>,
    pub address: SocketAddr,
    /// The TLS listeners, one per worker beside its plain one, when TLS is on.
    tls: Option<TlsListeners>,
}

struct TlsListeners {
    listeners: Vec<std::net::TcpListener>,
    address: SocketAddr,
    edge: Arc<crate::tls::EdgeTls>,
}

/// Binds `workers` listeners (at least one) on `address`. With port 0 the first one picks the
/// port and the others join it.
pub fn bind(address: SocketAddr, workers: usize) -> std::io::Result<ProxyListeners> {
    let (listeners, address) = bind_group(address, workers)?;
    Ok(ProxyListeners {
        listeners,
        address,
        tls: None,
    })
}

fn bind_group(address: SocketAddr, workers: usize) -> std::io::Result<(Vec<std::net::TcpListener>, SocketAddr)> {
    let workers = workers.max(1);
    if workers > 1 && address.port() != 0 {
        // `SO_REUSEPORT` would let this group join another process's listeners on the port
        // (an old gateway still running) and quietly take part of its traffic: a plain bind
        // first says whether the address is free.
        drop(listen(address, false)?);
    }
    let first = listen(address, workers > 1)?;
    let address = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..workers {
        listeners.push(listen(address, true)?);
    }
    // Each listener moves to its worker's runtime: deregistered here, registered there.
    let listeners = listeners
        .into_iter()
        .map(TcpListener::into_std)
        .collect::<std::io::Result<_>>()?;
    Ok((listeners, address))
}

fn listen(address: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(address)?;
    socket.listen(4096)
}

impl ProxyListeners {
    /// Adds a TLS listener on `address` to every worker, terminating with `edge`; plain
    /// requests are then redirected (for APIs that ask) to its port.
    pub fn with_tls(mut self, address: SocketAddr, edge: Arc<crate::tls::EdgeTls>) -> std::io::Result<ProxyListeners> {
        let (listeners, address) = bind_group(address, self.listeners.len())?;
        self.tls = Some(TlsListeners {
            listeners,
            address,
            edge,
        });
        Ok(self)
    }

    /// The TLS listener's address, when TLS is on.
    pub fn tls_address(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|tls| tls.address)
    }

    /// Serves on one worker thread per listener until `stop` turns true; returns when every
    /// worker has finished its connections (within `server::GRACE_PERIOD`), or at once if no
    /// worker thread could start.
    pub async fn serve(self, runtime: Arc<Runtime>, stop: watch::Receiver<bool>) {
        let mut finished = Vec::new();
        let https_port = self.tls.as_ref().map(|tls| tls.address.port());
        let (mut tls_listeners, edge) = match self.tls {
            Some(tls) => (tls.listeners.into_iter().map(Some).collect(), Some(tls.edge)),
            None => (Vec::new(), None),
        };
        tls_listeners.resize_with(self.listeners.len(), || None);
        for (index, (listener, tls_listener)) in self.listeners.into_iter().zip(tls_listeners).enumerate() {
            let (done, finished_one) = tokio::sync::oneshot::channel::<()>();
            let runtime = runtime.clone();
            let edge = edge.clone();
            let mut stop = stop.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("gatehouse-proxy-{}", index + 1))
                .spawn(move || {
                    crate::upstream::set_worker_slot(index + 1);
                    let worker = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(worker) => worker,
                        Err(error) => return tracing::error!(%error, "a proxy worker could not start"),
                    };
                    worker.block_on(async move {
                        let tls = match (tls_listener.map(TcpListener::from_std), edge) {
                            (Some(Ok(listener)), Some(edge)) => Some((listener, edge)),
                            (Some(Err(error)), _) => return tracing::error!(%error, "a proxy worker could not listen"),
                            _ => None,
                        };
                        match TcpListener::from_std(listener) {
                            Ok(listener) => {
                                let mut stop_tls = stop.clone();
                                let stopped = async move {
                                    let _ = stop.wait_for(|stop| *stop).await;
                                };
                                let plain = crate::server::ProxyListener::Plain { https_port };
                                let plain = crate::server::serve_proxy_on(listener, runtime.clone(), plain, stopped);
                                match tls {
                                    None => plain.await,
                                    Some((listener, edge)) => {
                                        let stopped = async move {
                                            let _ = stop_tls.wait_for(|stop| *stop).await;
                                        };
                                        let tls = crate::server::ProxyListener::Tls(edge);
                                        let tls = crate::server::serve_proxy_on(listener, runtime, tls, stopped);
                                        tokio::join!(plain, tls);
                                    }
                                }
                            }
                            Err(error) => tracing::error!(%error, "a proxy worker could not listen"),
                        }
                    });
                    let _ = done.send(());
                });
            match spawned {
                Ok(_) => finished.push(finished_one),
                Err(error) => tracing::error!(%error, "a proxy worker thread could not start"),
            }
        }
        for finished_one in finished {
            let _ = finished_one.await;
        }
    }
}

/// The default number of proxy workers: one per core this process may use.
pub fn default_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
