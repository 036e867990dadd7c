//! Against the real Redis at 127.0.0.1:6379, or `GATEHOUSE_TEST_REDIS_URL`; each test counts under
//! its own key prefix. Windows are a minute or more, so that Redis's own expiry (real time) never
//! cuts into a test that moves its clock by hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use super::*;
use crate::limit::test_support::{at_ms, describe, plan, quota, rate, utc, verdicts};
use crate::limit::{Limiter, LocalLimiter, QuotaPeriod, Refusal};

const TIMEOUT: Duration = Duration::from_secs(2);

fn redis_url() -> String {
    std::env::var("GATEHOUSE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

/// A limiter on the test Redis, counting under a prefix no other test or run uses.
async fn limiter(test_name: &str) -> RedisLimiter {
    static RUN: AtomicU64 = AtomicU64::new(0);
    let started = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let prefix = format!(
        "gatehouse-test:{test_name}:{}-{started}-{}:",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    );
    replica(&prefix).await
}

/// Another limiter on the same prefix: a second gateway replica.
async fn replica(prefix: &str) -> RedisLimiter {
    RedisLimiter::connect(&redis_url(), FailMode::Closed, TIMEOUT)
        .await
        .expect("the test Redis URL is valid")
        .with_key_prefix(prefix)
}

/// Checks one request's decision, as one line; a store failure fails the test.
async fn check(limiter: &RedisLimiter, key: &str, limits: &PlanLimits, now: SystemTime, expected: &str) {
    let decision = limiter.check(key, limits, now).await;
    assert_eq!(limiter.store_failures(), 0, "is Redis running at {}?", redis_url());
    assert_eq!(describe(&decision), expected, "{key} at {now:?}");
}

#[tokio::test]
async fn allows_n_per_window_exactly() {
    let limiter = limiter("n_per_window").await;
    let gold = plan("gold", rate(10, 60), None);
    // A request every 2 s for 6 windows: the burst in the first, then 10 in each.
    let mut n_allowed_per_window = [0; 6];
    for idx in 0..180 {
        if limiter.check("app", &gold, at_ms(idx * 2_000)).await.allowed {
            n_allowed_per_window[idx as usize / 30] += 1;
        }
    }
    assert_eq!(limiter.store_failures(), 0, "is Redis running at {}?", redis_url());
    assert_eq!(n_allowed_per_window[1..], [10; 5]);
}

#[tokio::test]
async fn the_burst_refills_after_the_window() {
    let limiter = limiter("refill").await;
    let gold = plan("gold", rate(2, 60), None);
    check(&limiter, "app", &gold, at_ms(0), "+ rate 1/2 t=30s").await;
    check(&limiter, "app", &gold, at_ms(0), "+ rate 0/2 t=60s").await;
    check(&limiter, "app", &gold, at_ms(0), "- rate 0/2 t=60s retry=30s").await;
    check(&limiter, "app", &gold, at_ms(30_000), "+ rate 0/2 t=60s").await;
    check(&limiter, "app", &gold, at_ms(90_000), "+ rate 1/2 t=30s").await;
}

#[tokio::test]
async fn the_quota_rolls_over_at_midnight() {
    let limiter = limiter("quota_day").await;
    let free = plan("free", rate(100, 60), quota(2, QuotaPeriod::Day));
    check(
        &limiter,
        "app",
        &free,
        utc(2026, 11, 25, 23, 0, 0),
        "+ quota 1/2 t=3600s",
    )
    .await;
    check(
        &limiter,
        "app",
        &free,
        utc(2026, 11, 25, 23, 30, 0),
        "+ quota 0/2 t=1800s",
    )
    .await;
    check(
        &limiter,
        "app",
        &free,
        utc(2026, 11, 25, 23, 59, 59),
        "- quota 0/2 t=1s retry=1s",
    )
    .await;
    check(
        &limiter,
        "app",
        &free,
        utc(2026, 11, 26, 0, 0, 0),
        "+ quota 1/2 t=86400s",
    )
    .await;
}

#[tokio::test]
async fn two_replicas_share_one_counter() {
    let first = limiter("replicas").await;
    let second = replica(&first.key_prefix).await;
    let gold = plan("gold", rate(3, 60), quota(100, QuotaPeriod::Day));
    check(&first, "app", &gold, at_ms(0), "+ rate 2/3 t=20s").await;
    check(&second, "app", &gold, at_ms(0), "+ rate 1/3 t=40s").await;
    check(&first, "app", &gold, at_ms(0), "+ rate 0/3 t=60s").await;
    check(&second, "app", &gold, at_ms(0), "- rate 0/3 t=60s retry=20s").await;
    check(&second, "app", &gold, at_ms(20_000), "+ rate 0/3 t=60s").await;
    check(&first, "app", &gold, at_ms(20_000), "- rate 0/3 t=60s retry=20s").await;
}

#[tokio::test]
async fn fail_open_allows_and_counts_the_failure() {
    let limiter = RedisLimiter::connect("redis://127.0.0.1:1/", FailMode::Open, TIMEOUT)
        .await
        .unwrap();
    let gold = plan("gold", rate(1, 60), None);
    for n_failures in 1..=3 {
        let decision = limiter.check("app", &gold, at_ms(0)).await;
        assert_eq!(describe(&decision), "+ open");
        assert_eq!(limiter.store_failures(), n_failures);
    }
}

#[tokio::test]
async fn fail_closed_refuses_and_counts_the_failure() {
    let limiter = Limiter::Redis(
        RedisLimiter::connect("redis://127.0.0.1:1/", FailMode::Closed, TIMEOUT)
            .await
            .unwrap(),
    );
    let gold = plan("gold", rate(1, 60), None);
    let decision = limiter.check("app", &gold, at_ms(0)).await;
    assert_eq!(describe(&decision), "- store");
    assert_eq!(decision.refusal, Some(Refusal::StoreUnavailable));
    assert_eq!(limiter.store_failures(), 1);
}

#[tokio::test]
async fn a_malformed_url_is_refused() {
    let result = RedisLimiter::connect("not a url", FailMode::Open, TIMEOUT).await;
    assert!(result.is_err());
}

#[tokio::test]
async fn keys_expire_once_they_say_nothing() {
    let limiter = limiter("expiry").await;
    let gold = plan("gold", rate(10, 60), quota(100, QuotaPeriod::Day));
    let now = utc(2026, 11, 25, 23, 0, 0);
    check(&limiter, "app", &gold, now, "+ rate 9/10 t=6s").await;
    let keys = limiter.keys("app", &gold, unix_micros(now));
    assert!(keys.quota.ends_with(":quota:2026-11-25"), "{}", keys.quota);
    let mut connection = limiter.connection.clone();
    let rate_ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&keys.rate)
        .query_async(&mut connection)
        .await
        .unwrap();
    let quota_ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&keys.quota)
        .query_async(&mut connection)
        .await
        .unwrap();
    // The burst is whole again 6 s after the request; the day ends in an hour, plus the margin.
    assert!((1..=6_000).contains(&rate_ttl_ms), "{rate_ttl_ms}");
    assert!((3_600_000..=7_200_000).contains(&quota_ttl_ms), "{quota_ttl_ms}");
}

#[tokio::test]
async fn lua_and_rust_agree_decision_for_decision() {
    let redis = limiter("agreement").await;
    let local = LocalLimiter::new();
    let plans = [
        plan("gold", rate(5, 60), quota(40, QuotaPeriod::Day)),
        plan("silver", rate(7, 60), None),
        plan("free", None, quota(9, QuotaPeriod::Day)),
    ];
    // A fixed pseudo-random walk through 3 keys, 3 plans and gaps of 0–20 s, across midnight.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut now = utc(2026, 11, 25, 22, 0, 0);
    let (mut local_decisions, mut redis_decisions) = (Vec::new(), Vec::new());
    for _ in 0..1_500 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let key = ["alice", "bob", "carol"][(seed >> 33) as usize % 3];
        let limits = &plans[(seed >> 40) as usize % 3];
        now += Duration::from_millis((seed >> 44) % 20_000);
        let local_decision = local.check(key, limits, now);
        // The script's own verdict, beside the decision built from the state it read.
        let reply = redis
            .run_script(key, limits, unix_micros(now))
            .await
            .expect("the test Redis answers");
        let redis_decision = decide(limits, &reply.state, unix_micros(now)).decision;
        assert_eq!(
            reply.allowed,
            local_decision.allowed,
            "{key} {} at {now:?}",
            limits.plan()
        );
        assert_eq!(redis_decision, local_decision, "{key} {} at {now:?}", limits.plan());
        local_decisions.push(local_decision);
        redis_decisions.push(redis_decision);
    }
    let verdicts = verdicts(&local_decisions);
    assert!(
        verdicts.contains('+') && verdicts.contains('-'),
        "the walk must both allow and refuse"
    );
    assert_eq!(verdicts, crate::limit::test_support::verdicts(&redis_decisions));
}

#[tokio::test]
async fn the_script_is_loaded_again_when_redis_forgot_it() {
    let limiter = limiter("noscript").await;
    let gold = plan("gold", rate(2, 60), None);
    check(&limiter, "app", &gold, at_ms(0), "+ rate 1/2 t=30s").await;
    // What a restarted Redis looks like to EVALSHA; other users' scripts are loaded again the same way.
    let mut connection = limiter.connection.clone();
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut connection)
        .await
        .unwrap();
    check(&limiter, "app", &gold, at_ms(0), "+ rate 0/2 t=60s").await;
}

#[tokio::test]
async fn usage_reads_the_shared_count_without_counting() {
    let first = limiter("usage").await;
    let second = replica(&first.key_prefix).await;
    let basic = plan("basic", rate(5, 60), quota(100, QuotaPeriod::Day));
    let now = SystemTime::now();
    let fresh = second.usage("sam", &basic, now).await.expect("Redis answers");
    assert_eq!(fresh.rate.map(|rate| rate.remaining), Some(5));
    assert_eq!(fresh.quota.map(|quota| quota.used), Some(0));
    for _ in 0..3 {
        assert!(first.check("sam", &basic, now).await.allowed);
    }
    let used = second.usage("sam", &basic, now).await.expect("Redis answers");
    assert_eq!(
        used.rate.map(|rate| rate.remaining),
        Some(2),
        "the other replica's counts"
    );
    assert_eq!(used.quota.map(|quota| quota.used), Some(3));
    assert_eq!(
        second.usage("sam", &basic, now).await,
        Some(used),
        "reading counts nothing"
    );
    let local = Limiter::Local(LocalLimiter::new());
    assert_eq!(
        local
            .usage("sam", &basic, now)
            .await
            .and_then(|usage| usage.quota)
            .map(|quota| quota.used),
        Some(0)
    );
}
