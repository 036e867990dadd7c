use std::sync::Arc;
use std::time::Duration;

use super::{KeyRef, LATENCY_BUCKETS_MS, N_LATENCY_BUCKETS, UsageAggregator, UsageCounts, latency_bucket};
use crate::telemetry::metrics::Label;

struct Strings {
    pets: Label,
    v1: Label,
    alice: Arc<str>,
    app: Arc<str>,
}

fn strings() -> Strings {
    Strings {
        pets: Label::new("pets".into()),
        v1: Label::new("v1".into()),
        alice: "alice".into(),
        app: "alice/app".into(),
    }
}

fn key<'a>(strings: &'a Strings, key: Option<&'a str>, class: u8) -> KeyRef<'a> {
    KeyRef {
        api: &strings.pets,
        version: Some(&strings.v1),
        user: key.map(|_| &strings.alice),
        application: key.map(|_| &strings.app),
        key,
        class,
    }
}

fn sorted(mut counts: Vec<UsageCounts>) -> Vec<UsageCounts> {
    counts.sort_by(|left, right| {
        (left.key.as_deref(), left.status_class).cmp(&(right.key.as_deref(), right.status_class))
    });
    counts
}

fn buckets(filled: &[(usize, u64)]) -> [u64; N_LATENCY_BUCKETS] {
    let mut buckets = [0; N_LATENCY_BUCKETS];
    for &(bucket, count) in filled {
        buckets[bucket] = count;
    }
    buckets
}

#[test]
fn requests_are_counted_per_key_and_class_and_a_drain_starts_over() {
    let strings = strings();
    let usage = UsageAggregator::with_shards(4);
    for bucket in [0, 0, 3] {
        usage.add(&key(&strings, Some("k1"), 1), bucket);
    }
    usage.add(&key(&strings, Some("k1"), 3), 5);
    usage.add(&key(&strings, Some("k2"), 1), 13);
    usage.add(&key(&strings, None, 3), 0);

    let drained = sorted(usage.drain());
    let expected = |key: Option<&str>, class: &'static str, filled: &[(usize, u64)]| UsageCounts {
        api: "pets".into(),
        version: Some("v1".into()),
        user: key.map(|_| "alice".into()),
        application: key.map(|_| "alice/app".into()),
        key: key.map(Arc::from),
        status_class: class,
        latency_ms_buckets: buckets(filled),
    };
    assert_eq!(
        drained,
        vec![
            expected(None, "4xx", &[(0, 1)]),
            expected(Some("k1"), "2xx", &[(0, 2), (3, 1)]),
            expected(Some("k1"), "4xx", &[(5, 1)]),
            expected(Some("k2"), "2xx", &[(13, 1)]),
        ]
    );
    assert_eq!(drained[1].requests(), 3);

    usage.add(&key(&strings, Some("k1"), 1), 2);
    assert_eq!(
        usage.drain(),
        vec![expected(Some("k1"), "2xx", &[(2, 1)])],
        "only what came after the drain"
    );
    assert_eq!(usage.drain(), vec![], "nothing since");
    let kept: usize = usage.shards.iter().map(|shard| shard.lock().unwrap().len()).sum();
    assert_eq!(kept, 0, "keys idle for a whole period are dropped");
}

#[test]
fn equal_keys_from_other_snapshots_and_threads_count_together() {
    let usage = Arc::new(UsageAggregator::with_shards(8));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let usage = usage.clone();
            std::thread::spawn(move || {
                // Each thread's strings are its own copies, as a new snapshot's would be.
                let strings = strings();
                for _ in 0..1000 {
                    usage.add(&key(&strings, Some("k1"), 1), 4);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let drained = usage.drain();
    assert_eq!(drained.len(), 1, "{drained:?}");
    assert_eq!(drained[0].latency_ms_buckets, buckets(&[(4, 4000)]));
}

#[test]
fn a_version_less_request_is_not_the_versioned_one() {
    let strings = strings();
    let usage = UsageAggregator::with_shards(1);
    usage.add(&key(&strings, Some("k1"), 1), 0);
    usage.add(
        &KeyRef {
            version: None,
            ..key(&strings, Some("k1"), 1)
        },
        0,
    );
    let versions: Vec<_> = sorted(usage.drain()).into_iter().map(|counts| counts.version).collect();
    assert_eq!(versions.len(), 2);
    assert!(versions.contains(&None) && versions.contains(&Some("v1".into())));
}

#[test]
fn latency_falls_in_the_first_bucket_that_holds_it() {
    let ms = |ms: f64| Duration::from_secs_f64(ms / 1000.0);
    for (took, bucket) in [
        (Duration::ZERO, 0),
        (ms(1.0), 0),
        (ms(1.001), 1),
        (ms(7.0), 3),
        (ms(10_000.0), LATENCY_BUCKETS_MS.len() - 1),
        (ms(10_000.5), LATENCY_BUCKETS_MS.len()),
        (Duration::from_secs(3600), LATENCY_BUCKETS_MS.len()),
    ] {
        assert_eq!(latency_bucket(took), bucket, "{took:?}");
    }
}
