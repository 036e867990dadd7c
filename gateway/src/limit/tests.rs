//! Tests of the limiter's front: the `Limiter` enum and the clock's conversion to stored time.

use std::time::Duration;

use super::test_support::{at_ms, describe, plan, rate};
use super::*;

#[tokio::test]
async fn the_default_limiter_counts_in_memory() {
    let limiter = Limiter::default();
    let gold = plan("gold", rate(1, 60), None);
    assert_eq!(
        describe(&limiter.check("app", &gold, at_ms(0)).await),
        "+ rate 0/1 t=60s"
    );
    assert_eq!(
        describe(&limiter.check("app", &gold, at_ms(0)).await),
        "- rate 0/1 t=60s retry=60s"
    );
    assert_eq!(limiter.store_failures(), 0);
}

#[test]
fn times_before_the_epoch_or_past_the_last_countable_instant_are_clamped() {
    assert_eq!(unix_micros(UNIX_EPOCH - Duration::from_secs(1)), 0);
    assert_eq!(unix_micros(UNIX_EPOCH + Duration::from_secs(1)), 1_000_000);
    assert_eq!(unix_micros(UNIX_EPOCH + Duration::from_secs(1 << 40)), MAX_UNIX_MICROS);
}
