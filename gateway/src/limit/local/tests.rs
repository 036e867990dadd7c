//! Tests of the in-memory store: counting per (plan, key), sweeping idle keys, concurrent checks.

use std::thread;

use super::*;
use crate::limit::QuotaPeriod;
use crate::limit::test_support::{at_ms, describe, plan, quota, rate, utc, verdicts};

/// Checks one request's decision, as one line.
fn check(limiter: &LocalLimiter, key: &str, limits: &PlanLimits, now: SystemTime, expected: &str) {
    assert_eq!(describe(&limiter.check(key, limits, now)), expected, "{key} at {now:?}");
}

#[test]
fn allows_n_per_window_exactly() {
    let limiter = LocalLimiter::new();
    let gold = plan("gold", rate(5, 10), None);
    // A request every 100 ms for 11 windows: the burst in the first, then 5 in each.
    let decisions: Vec<_> = (0..1_100)
        .map(|idx| limiter.check("app", &gold, at_ms(idx * 100)))
        .collect();
    let per_window: Vec<usize> = decisions
        .chunks(100)
        .skip(1)
        .map(|window| window.iter().filter(|decision| decision.allowed).count())
        .collect();
    assert_eq!(per_window, vec![5; 10]);
}

#[test]
fn the_burst_refills_after_the_window() {
    let limiter = LocalLimiter::new();
    let gold = plan("gold", rate(2, 60), None);
    let decisions: Vec<_> = [0, 0, 0, 60_000, 60_000, 60_000]
        .into_iter()
        .map(|ms| limiter.check("app", &gold, at_ms(ms)))
        .collect();
    assert_eq!(verdicts(&decisions), "++-++-");
}

#[test]
fn keys_and_plans_are_counted_apart() {
    let limiter = LocalLimiter::new();
    let gold = plan("gold", rate(1, 60), None);
    let silver = plan("silver", rate(1, 60), None);
    check(&limiter, "alice", &gold, at_ms(0), "+ rate 0/1 t=60s");
    check(&limiter, "alice", &gold, at_ms(0), "- rate 0/1 t=60s retry=60s");
    check(&limiter, "bob", &gold, at_ms(0), "+ rate 0/1 t=60s");
    check(&limiter, "alice", &silver, at_ms(0), "+ rate 0/1 t=60s");
    assert_eq!(limiter.tracked_keys(), 3);
}

#[test]
fn the_quota_rolls_over_at_midnight() {
    let limiter = LocalLimiter::new();
    let free = plan("free", rate(100, 1), quota(1, QuotaPeriod::Day));
    check(
        &limiter,
        "app",
        &free,
        utc(2026, 11, 25, 10, 0, 0),
        "+ quota 0/1 t=50400s",
    );
    check(
        &limiter,
        "app",
        &free,
        utc(2026, 11, 25, 23, 59, 59),
        "- quota 0/1 t=1s retry=1s",
    );
    check(
        &limiter,
        "app",
        &free,
        utc(2026, 11, 26, 0, 0, 0),
        "+ quota 0/1 t=86400s",
    );
}

#[test]
fn idle_keys_are_swept_so_memory_follows_active_keys() {
    let limiter = LocalLimiter::with_shards(1);
    let gold = plan("gold", rate(1, 1), None);
    // Five rounds of 10,000 new keys, two seconds apart: each round's keys are idle in the next.
    for round in 0..5 {
        for key_idx in 0..10_000 {
            let key = format!("app-{round}-{key_idx}");
            assert!(limiter.check(&key, &gold, at_ms(round * 2_000)).allowed);
        }
        assert!(
            limiter.tracked_keys() <= 20_000,
            "round {round}: {}",
            limiter.tracked_keys()
        );
    }
}

#[test]
fn a_counted_quota_survives_sweeps() {
    let limiter = LocalLimiter::with_shards(1);
    let free = plan("free", rate(10, 1), quota(1, QuotaPeriod::Day));
    assert!(limiter.check("kept", &free, at_ms(0)).allowed);
    for key_idx in 0..1_000 {
        limiter.check(&format!("other-{key_idx}"), &free, at_ms(10_000));
    }
    check(
        &limiter,
        "kept",
        &free,
        at_ms(20_000),
        "- quota 0/1 t=39580s retry=39580s",
    );
}

#[test]
fn concurrent_checks_on_one_key_allow_exactly_n() {
    let limiter = LocalLimiter::new();
    let gold = plan("gold", rate(500, 60), None);
    let n_allowed: usize = thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    (0..1_000)
                        .filter(|_| limiter.check("app", &gold, at_ms(0)).allowed)
                        .count()
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().unwrap()).sum()
    });
    assert_eq!(n_allowed, 500);
}

#[test]
fn a_plan_without_limits_stores_nothing() {
    let limiter = LocalLimiter::new();
    check(&limiter, "app", &plan("open", None, None), at_ms(0), "+");
    assert_eq!(limiter.tracked_keys(), 0);
}

#[test]
fn usage_reads_what_was_counted_without_counting() {
    let limiter = LocalLimiter::new();
    let basic = plan("basic", rate(5, 10), quota(100, QuotaPeriod::Day));
    let fresh = limiter.usage("sam", &basic, at_ms(0));
    assert_eq!(fresh.rate.map(|rate| (rate.limit, rate.remaining)), Some((5, 5)));
    assert_eq!(fresh.quota.map(|quota| (quota.limit, quota.used)), Some((100, 0)));
    for _ in 0..3 {
        assert!(limiter.check("sam", &basic, at_ms(0)).allowed);
    }
    let used = limiter.usage("sam", &basic, at_ms(0));
    assert_eq!(used.rate.map(|rate| rate.remaining), Some(2));
    assert_eq!(used.quota.map(|quota| quota.used), Some(3));
    assert_eq!(limiter.usage("sam", &basic, at_ms(0)), used, "reading counts nothing");
    assert_eq!(
        limiter.usage("other", &basic, at_ms(0)).quota.map(|quota| quota.used),
        Some(0)
    );
    // A window later the burst is whole again; the day's count stays.
    let later = limiter.usage("sam", &basic, at_ms(10_000));
    assert_eq!(later.rate.map(|rate| rate.remaining), Some(5));
    assert_eq!(later.quota.map(|quota| quota.used), Some(3));
}
