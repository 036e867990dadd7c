//! Starting a gateway from its configuration: the limiter, the runtime, the snapshot source
//! (a file, or the hub's stream), the listeners. The binary calls [`start`], prints the
//! addresses, and awaits [`Started::serve`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::net::TcpListener;

use crate::config::GatewayConfig;
use crate::limit::{Limiter, RedisLimiter};
use crate::runtime::Runtime;
use crate::source::hub::{HubFollower, HubSettings, HubSettingsError, UsageSink};
use crate::source::{self, LastGood};

/// Why a gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("rate_limit_store: {0}")]
    RateLimitStore(String),
    // The cause is in the message, not a `source`: the binary prints the chain, and would say
    // "Address already in use" twice.
    #[error("cannot listen on {address}: {error}")]
    Listen { address: SocketAddr, error: std::io::Error },
    #[error(transparent)]
    Hub(#[from] HubSettingsError),
    #[error("hub_url and snapshot are exclusive: a gateway follows the hub or a snapshot file, not both")]
    TwoSources,
    #[error("tls_cert_dir: {0}")]
    TlsCertDir(crate::tls::TlsError),
    #[error("tls_cert_dir needs tls_listen: the certificates are for the TLS listener")]
    TlsCertDirWithoutListener,
}

const NO_TOKEN: HubSettingsError = HubSettingsError::Token("it is required with hub_url");

/// A gateway with its listeners bound, ready to serve.
pub struct Started {
    pub runtime: Arc<Runtime>,
    pub proxy_address: SocketAddr,
    pub admin_address: SocketAddr,
    /// The TLS listener's address, when there is one.
    pub tls_address: Option<SocketAddr>,
    proxy: crate::workers::ProxyListeners,
    /// Reloads `tls_cert_dir` when it changes.
    tls_watcher: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
    admin: TcpListener,
    config: GatewayConfig,
    hub: Option<HubFollower>,
    /// Starts the usage reporter, told to stop by the receiver: to the hub, or to another sink.
    usage: Option<UsageReporter>,
}

type UsageReporter =
    Box<dyn FnOnce(tokio::sync::watch::Receiver<bool>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Builds the runtime, applies the first snapshot (the file, else the last good one: the hub's
/// stream only starts with [`Started::serve`]), and binds both listeners.
pub async fn start(config: GatewayConfig) -> Result<Started, StartError> {
    let started_at = SystemTime::now();
    if let Some(url) = &config.hub_url {
        if config.snapshot.is_some() {
            return Err(StartError::TwoSources);
        }
        let token = config.hub_token.as_deref().ok_or(NO_TOKEN)?;
        source::hub::check_settings(url, token)?;
    }
    let limiter = match &config.rate_limit_store {
        None => Limiter::default(),
        Some(url) => Limiter::Redis(
            RedisLimiter::connect(url, config.rate_limit_fail, config.rate_limit_timeout)
                .await
                .map_err(|error| StartError::RateLimitStore(error.to_string()))?,
        ),
    };
    let workers = config.workers.max(1);
    let mut telemetry = config.telemetry;
    // A gateway following a hub tells it its usage.
    telemetry.usage_summaries |= config.hub_url.is_some();
    // OTLP names the gateway as the hub's fleet view does.
    telemetry.otlp = telemetry
        .otlp
        .map(|otlp| otlp.with_instance(&source::hub::instance_name(config.listen)));
    let runtime = Runtime::with_workers(limiter, telemetry, workers);
    let last_good = LastGood::in_dir(&config.data_dir);
    source::start(&runtime, config.snapshot.as_deref(), Some(&last_good));
    let bind = |address: SocketAddr| async move {
        TcpListener::bind(address)
            .await
            .map_err(|error| StartError::Listen { address, error })
    };
    let proxy = crate::workers::bind(config.listen, workers).map_err(|error| StartError::Listen {
        address: config.listen,
        error,
    })?;
    if config.tls_cert_dir.is_some() && config.tls_listen.is_none() {
        return Err(StartError::TlsCertDirWithoutListener);
    }
    let tls_watcher = match &config.tls_cert_dir {
        None => None,
        Some(dir) => Some(Box::pin(
            crate::tls::watch_dir(dir.clone(), runtime.tls_files.clone(), config.reload_interval)
                .map_err(StartError::TlsCertDir)?,
        ) as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>),
    };
    let proxy = match config.tls_listen {
        None => proxy,
        Some(address) => {
            let edge = Arc::new(crate::tls::EdgeTls::new(runtime.clone()));
            proxy
                .with_tls(address, edge)
                .map_err(|error| StartError::Listen { address, error })?
        }
    };
    let tls_address = proxy.tls_address();
    let admin = bind(config.admin_listen).await?;
    let proxy_address = proxy.address;
    let hub = match &config.hub_url {
        None => None,
        Some(url) => {
            let token = config.hub_token.clone().ok_or(NO_TOKEN)?;
            let settings = HubSettings {
                status_interval: config.status_interval,
                usage_interval: config.usage_interval,
                reconnect_min: config.reconnect_min,
                reconnect_max: config.reconnect_max,
                ..HubSettings::new(url.clone(), token, source::hub::instance_name(proxy_address))
            };
            Some(HubFollower::new(
                runtime.clone(),
                Some(last_good),
                settings,
                started_at,
            )?)
        }
    };
    Ok(Started {
        runtime,
        proxy_address,
        admin_address: admin.local_addr().map_err(|error| StartError::Listen {
            address: config.admin_listen,
            error,
        })?,
        tls_address,
        proxy,
        tls_watcher,
        admin,
        config,
        hub,
        usage: None,
    })
}

impl Started {
    /// Reports usage to `sink` rather than to a hub over HTTP: for the gateway inside the hub's
    /// own process (`up`), whose configuration turns `telemetry.usage_summaries` on.
    pub fn report_usage_to(&mut self, sink: impl UsageSink) {
        let runtime = self.runtime.clone();
        let instance = format!("in-process-{}", std::process::id());
        let interval = self.config.usage_interval;
        self.usage = Some(Box::new(move |stop| {
            Box::pin(source::hub::report_usage(sink, runtime, instance, interval, stop))
        }));
    }

    /// Serves until `shutdown` completes, reloading the snapshot file as it changes or
    /// following the hub.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        // Told to stop after the proxy is done, so the last usage report counts every request.
        let (stop_usage, usage_stopped) = tokio::sync::watch::channel(false);
        let usage = match (self.usage, &self.hub) {
            (Some(reporter), _) => Some(tokio::spawn(reporter(usage_stopped))),
            (None, Some(hub)) => Some(tokio::spawn(hub.report_usage(usage_stopped))),
            (None, None) => None,
        };
        let follower = self.hub.map(|hub| tokio::spawn(hub.follow()));
        let tls_watcher = self.tls_watcher.map(tokio::spawn);
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
        let proxy = self.proxy.serve(self.runtime.clone(), stopped.clone());
        tokio::pin!(proxy);
        tokio::select! {
            () = &mut proxy => tracing::error!("the proxy workers stopped on their own; stopping the gateway"),
            () = shutdown => {
                let _ = stop.send(true);
                proxy.await;
            }
        }
        // Whichever way the proxy ended, the admin port ends with it.
        let _ = stop.send(true);
        let _ = admin.await;
        if let Some(watcher) = watcher {
            watcher.abort();
        }
        if let Some(follower) = follower {
            follower.abort();
        }
        if let Some(tls_watcher) = tls_watcher {
            tls_watcher.abort();
        }
        let _ = stop_usage.send(true);
        if let Some(usage) = usage {
            // `report_usage` bounds its last report; this is the backstop.
            let abort = usage.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(10), usage)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}
