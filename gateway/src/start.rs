//! Starting a gateway from its configuration: the limiter, the runtime, the snapshot source,
//! the listeners. The binary calls [`start`], prints the addresses, and awaits [`Started::serve`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::GatewayConfig;
use crate::limit::{Limiter, RedisLimiter};
use crate::runtime::Runtime;
use crate::source::{self, LastGood};

/// Why a gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("rate_limit_store: {0}")]
    RateLimitStore(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// A gateway with its listeners bound, ready to serve.
pub struct Started {
    pub runtime: Arc<Runtime>,
    pub proxy_address: SocketAddr,
    pub admin_address: SocketAddr,
    proxy: TcpListener,
    admin: TcpListener,
    config: GatewayConfig,
}

/// Builds the runtime, applies the first snapshot (the source, else the last good one), and
/// binds both listeners.
pub async fn start(config: GatewayConfig) -> Result<Started, StartError> {
    let limiter = match &config.rate_limit_store {
        None => Limiter::default(),
        Some(url) => Limiter::Redis(
            RedisLimiter::connect(url, config.rate_limit_fail, config.rate_limit_timeout)
                .await
                .map_err(|error| StartError::RateLimitStore(error.to_string()))?,
        ),
    };
    let runtime = Runtime::new(limiter, config.telemetry);
    let last_good = LastGood::in_dir(&config.data_dir);
    source::start(&runtime, config.snapshot.as_deref(), Some(&last_good));
    let bind = |address: SocketAddr| async move {
        TcpListener::bind(address)
            .await
            .map_err(|source| StartError::Listen { address, source })
    };
    let proxy = bind(config.listen).await?;
    let admin = bind(config.admin_listen).await?;
    Ok(Started {
        runtime,
        proxy_address: proxy.local_addr().map_err(|source| StartError::Listen {
            address: config.listen,
            source,
        })?,
        admin_address: admin.local_addr().map_err(|source| StartError::Listen {
            address: config.admin_listen,
            source,
        })?,
        proxy,
        admin,
        config,
    })
}

impl Started {
    /// Serves until `shutdown` completes, reloading the snapshot file as it changes.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let watcher = self.config.snapshot.clone().map(|path| {
            let last_good = LastGood::in_dir(&self.config.data_dir);
            tokio::spawn(source::watch_file(
                self.runtime.clone(),
                path,
                Some(last_good),
                self.config.reload_interval,
            ))
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let wait = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let admin = tokio::spawn(crate::server::serve_admin(
            self.admin,
            self.runtime.clone(),
            wait(stopped.clone()),
        ));
        let proxy = crate::server::serve_proxy(self.proxy, self.runtime.clone(), async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        proxy.await;
        let _ = admin.await;
        if let Some(watcher) = watcher {
            watcher.abort();
        }
    }
}
