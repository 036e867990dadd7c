//! A gateway in the test process: the production runtime and listeners on loopback ports,
//! with a snapshot the test chooses.

use std::net::SocketAddr;
use std::sync::Arc;

use gateway::limit::Limiter;
use gateway::runtime::Runtime;
use gateway::snapshot::Snapshot;
use gateway::telemetry::TelemetrySettings;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

pub struct TestGateway {
    pub runtime: Arc<Runtime>,
    pub address: SocketAddr,
    pub admin: SocketAddr,
    /// The TLS listener, for a gateway started with one (`from_config`).
    pub tls_address: Option<SocketAddr>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(true);
        }
    }
}

impl TestGateway {
    pub async fn start(snapshot: Value) -> TestGateway {
        TestGateway::with_limiter(snapshot, Limiter::default()).await
    }

    pub async fn with_limiter(snapshot: Value, limiter: Limiter) -> TestGateway {
        TestGateway::with_settings(snapshot, limiter, TelemetrySettings::default()).await
    }

    pub async fn with_telemetry(snapshot: Value, telemetry: TelemetrySettings) -> TestGateway {
        TestGateway::with_settings(snapshot, Limiter::default(), telemetry).await
    }

    async fn with_settings(snapshot: Value, limiter: Limiter, telemetry: TelemetrySettings) -> TestGateway {
        let runtime = Runtime::new(limiter, telemetry);
        runtime.apply(parse(&snapshot)).expect("the test snapshot applies");
        let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (address, admin_address) = (proxy.local_addr().unwrap(), admin.local_addr().unwrap());
        let (shutdown, watch) = tokio::sync::watch::channel(false);
        let stopped = |mut watch: tokio::sync::watch::Receiver<bool>| async move {
            let _ = watch.wait_for(|stop| *stop).await;
        };
        tokio::spawn(gateway::server::serve_proxy(
            proxy,
            runtime.clone(),
            stopped(watch.clone()),
        ));
        tokio::spawn(gateway::server::serve_admin(admin, runtime.clone(), stopped(watch)));
        TestGateway {
            runtime,
            address,
            admin: admin_address,
            tls_address: None,
            shutdown: Some(shutdown),
        }
    }

    /// A gateway started the way `gatehouse gateway` starts one (`gateway::start`, then
    /// `Started::serve`), from `config` with both listeners on loopback ports the system picks.
    pub async fn from_config(config: gateway::config::GatewayConfig) -> TestGateway {
        let config = gateway::config::GatewayConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            ..config
        };
        let started = gateway::start::start(config).await.expect("the gateway starts");
        let (runtime, address, admin) = (started.runtime.clone(), started.proxy_address, started.admin_address);
        let tls_address = started.tls_address;
        let (shutdown, mut watch) = tokio::sync::watch::channel(false);
        tokio::spawn(started.serve(async move {
            let _ = watch.wait_for(|stop| *stop).await;
        }));
        TestGateway {
            runtime,
            address,
            admin,
            tls_address,
            shutdown: Some(shutdown),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The admin port's `/metrics` text.
    pub async fn metrics(&self) -> String {
        client()
            .get(self.admin_url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }
}

pub fn parse(snapshot: &Value) -> Snapshot {
    Snapshot::parse(snapshot.to_string().as_bytes()).expect("the test snapshot parses")
}

/// Hex SHA-256 of a key, as the hub would put it in a snapshot.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub const ALICE_KEY: &str = "ghk_alice_key_for_tests";
pub const BOB_KEY: &str = "ghk_bob_key_for_tests";
pub const EXPIRED_KEY: &str = "ghk_expired_key_for_tests";

/// A snapshot with one versioned API (`pets`) on `upstream`, a plain one (`hr`), two
/// consumers and their rules: alice (staff) may do anything on pets; bob (support) may only
/// GET pets v1, under a plan of `bob_limit` requests a minute.
pub fn snapshot(upstream: &str, bob_limit: u64) -> Value {
    json!({
        "format": 1,
        "revision": 1,
        "apis": [
            {
                "name": "pets", "path_prefix": "/pets", "strip_prefix": true,
                "upstream": { "targets": [{ "url": upstream }] },
                "versions": [
                    { "name": "v1", "status": "published", "selector": { "kind": "path", "segment": "v1" } },
                    { "name": "v2", "status": "published", "selector": { "kind": "header", "name": "api-version", "value": "2" } },
                    { "name": "v0", "status": "retired", "selector": { "kind": "path", "segment": "v0" } }
                ]
            },
            {
                "name": "hr", "path_prefix": "/hr",
                "upstream": { "targets": [{ "url": format!("{upstream}/base") }] },
                "authentication": { "api_key_header": "x-hr-key", "api_key_query": "key", "jwt": false }
            }
        ],
        "plans": [
            { "name": "unlimited" },
            { "name": "support", "rate_limit": { "requests": bob_limit, "window_seconds": 60 } }
        ],
        "consumers": [
            { "key_hash": key_hash(ALICE_KEY), "key_id": "key_alice", "user": "alice", "application": "alice-app", "groups": ["staff"] },
            { "key_hash": key_hash(BOB_KEY), "key_id": "key_bob", "user": "bob", "application": "bob-app", "groups": ["support"] },
            { "key_hash": key_hash(EXPIRED_KEY), "key_id": "key_old", "user": "carol", "application": "old", "groups": ["staff"], "expires_at": 1000 }
        ],
        "access_rules": [
            { "policy": "staff-all", "groups": ["staff"], "api": "pets", "plan": "unlimited" },
            { "policy": "staff-hr", "groups": ["staff"], "api": "hr", "plan": "unlimited" },
            { "policy": "support-read", "groups": ["support"], "api": "pets", "versions": ["v1"], "methods": ["GET"], "plan": "support" }
        ]
    })
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(16).build().unwrap()
}

/// The sum of the samples of `series` (a metric's full name, e.g. `..._count`) in Prometheus
/// text whose labels include every `name="value"` pair of `labels`.
pub fn metric_sum(metrics: &str, series: &str, labels: &[(&str, &str)]) -> f64 {
    metrics
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(series)?;
            let (labels_text, value) = match rest.strip_prefix('{') {
                Some(rest) => rest.rsplit_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            let wanted = labels
                .iter()
                .all(|(name, value)| labels_text.split(',').any(|pair| pair == format!("{name}=\"{value}\"")));
            wanted.then(|| value.trim().parse::<f64>().ok()).flatten()
        })
        .sum()
}
