//! What shadowed rules would have refused (`crate::shadow`), as telemetry: the
//! `gatehouse_shadow_refusals_total` counter on the scrape (and `gatehouse.shadow.refusals` over
//! OTLP, with the same labels), and the counts per rule and consumer the hub reporter drains into
//! the usage report. Recorded only for a request with a would-be refusal, so a gateway without
//! shadowed rules never comes here.
//!
//! The counts for the hub are one map behind a mutex, shared by every worker: only requests a
//! shadowed rule would refuse take it, and a shadowed rule is a short-lived experiment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::metrics::Label;
use crate::shadow::{RuleKind, ShadowRefusal};

/// The counter's labels; `otel` names them the OpenTelemetry way (`gatehouse.rule_kind`, …).
#[derive(Debug, Clone, PartialEq, Eq, EncodeLabelSet)]
pub struct ShadowLabels {
    /// `policy` or `plan`.
    pub gatehouse_rule_kind: &'static str,
    /// The access policy's or plan's name.
    pub gatehouse_rule: Label,
    /// The user; empty when consumer labels are off, or for a caller without one.
    pub gatehouse_consumer: Label,
}

impl std::hash::Hash for ShadowLabels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.gatehouse_rule.hash() ^ self.gatehouse_consumer.hash().rotate_left(7));
        state.write_u8(self.gatehouse_rule_kind.len() as u8);
    }
}

/// The scrape's counter.
pub struct ShadowMetrics {
    refusals: Family<ShadowLabels, Counter>,
}

impl ShadowMetrics {
    /// Registers `gatehouse_shadow_refusals` (`_total` on the scrape) in `registry`.
    pub(super) fn register(registry: &mut Registry) -> ShadowMetrics {
        let refusals = Family::<ShadowLabels, Counter>::default();
        registry.register(
            "gatehouse_shadow_refusals",
            "Requests a shadowed access policy or plan would have refused",
            refusals.clone(),
        );
        ShadowMetrics { refusals }
    }

    pub(super) fn record(&self, labels: &ShadowLabels) {
        self.refusals.get_or_create(labels).inc();
    }
}

/// The labels of one would-be refusal by `consumer` (empty for none).
pub(super) fn labels(refusal: &ShadowRefusal, consumer: Label) -> ShadowLabels {
    ShadowLabels {
        gatehouse_rule_kind: refusal.kind.as_str(),
        gatehouse_rule: Label::new(refusal.rule.clone()),
        gatehouse_consumer: consumer,
    }
}

/// Would-be refusals by rule kind, rule and user, since the last drain.
pub type ShadowKey = (RuleKind, Arc<str>, Option<Arc<str>>);

/// Would-be refusals counted for the hub until its reporter drains them.
#[derive(Debug, Default)]
pub struct ShadowCounts {
    counts: Mutex<HashMap<ShadowKey, u64>>,
}

impl ShadowCounts {
    pub(super) fn add(&self, refusal: &ShadowRefusal, user: Option<&Arc<str>>) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts
            .entry((refusal.kind, refusal.rule.clone(), user.cloned()))
            .or_default() += 1;
    }

    /// Takes every count.
    pub fn drain(&self) -> Vec<(ShadowKey, u64)> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.drain().collect()
    }
}
