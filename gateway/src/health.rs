//! Active health checks: a probe `GET` to each target of an upstream that asks for them, on
//! its interval. A 2xx or 3xx answer within the timeout marks the target healthy; anything else
//! takes it out of the rotation until a probe succeeds. Checks belong to a snapshot and stop
//! when it is dropped.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{Either, Full};

use crate::compiled::CompiledSnapshot;
use crate::upstream::Upstream;

/// The probe tasks of one snapshot.
pub struct HealthChecks {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl HealthChecks {
    /// Starts a probe task per upstream that asks for active checks (inside a Tokio runtime).
    pub fn start(snapshot: &CompiledSnapshot) -> HealthChecks {
        let mut upstreams: Vec<Arc<Upstream>> = Vec::new();
        for api in &snapshot.apis {
            upstreams.push(api.upstream.clone());
            upstreams.extend(api.versions.iter().filter_map(|version| version.upstream.clone()));
        }
        let tasks = upstreams
            .into_iter()
            .filter(|upstream| upstream.active.is_some())
            .map(|upstream| tokio::spawn(probe_forever(upstream)))
            .collect();
        HealthChecks { tasks }
    }
}

impl Drop for HealthChecks {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn probe_forever(upstream: Arc<Upstream>) {
    let Some(active) = upstream.active.clone() else {
        return;
    };
    let mut interval = tokio::time::interval(Duration::from_millis(active.interval_ms.max(100)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        for target in upstream.targets.iter() {
            let Some(pool) = target.pool.as_ref() else { continue };
            let uri = format!(
                "{}://{}{}{}",
                target.scheme, target.authority, target.base_path, active.path
            );
            let Ok(uri) = uri.parse::<Uri>() else { continue };
            let mut request = Request::new(Either::Right(Full::new(Bytes::new())));
            *request.uri_mut() = uri;
            request
                .headers_mut()
                .insert(http::header::HOST, target.host_header.clone());
            let answer = tokio::time::timeout(
                Duration::from_millis(active.timeout_ms),
                pool.send(request, upstream.connect_timeout),
            )
            .await;
            let healthy = matches!(&answer, Ok(Ok(response)) if response.status().is_success() || response.status().is_redirection());
            if !healthy {
                tracing::warn!(target = %target.url, "active health check failed");
            }
            target.set_probe_healthy(healthy);
        }
    }
}
