use std::time::Duration;

use super::{Backoff, base_delay, jittered};

const MIN: Duration = Duration::from_millis(500);
const MAX: Duration = Duration::from_secs(30);

#[test]
fn the_base_doubles_from_min_to_max() {
    let bases: Vec<u64> = (0..9)
        .map(|failures| base_delay(MIN, MAX, failures).as_millis() as u64)
        .collect();
    assert_eq!(bases, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert_eq!(base_delay(MIN, MAX, 200), MAX, "no overflow after many failures");
}

#[test]
fn jitter_is_half_either_side() {
    let base = Duration::from_secs(2);
    assert_eq!(jittered(base, 0.0), Duration::from_secs(1));
    assert_eq!(jittered(base, 0.5), Duration::from_secs(2));
    assert!(jittered(base, 0.999_999) < Duration::from_secs(3));
}

#[test]
fn delays_grow_stay_within_jitter_and_reset() {
    let mut backoff = Backoff::new(MIN, MAX);
    for failures in 0..12 {
        let base = base_delay(MIN, MAX, failures);
        let delay = backoff.next_delay();
        assert!(delay >= base / 2 && delay < base * 3 / 2, "{delay:?} around {base:?}");
    }
    backoff.reset();
    let delay = backoff.next_delay();
    assert!(delay >= MIN / 2 && delay < MIN * 3 / 2, "{delay:?} after a reset");
    let longest = backoff.longest_delay();
    assert!(longest >= MAX / 2 && longest < MAX * 3 / 2, "{longest:?}");
}

#[test]
fn jitter_varies() {
    let mut backoff = Backoff::new(MIN, MAX);
    let delays: std::collections::HashSet<Duration> = (0..20).map(|_| backoff.longest_delay()).collect();
    assert!(delays.len() > 10, "{delays:?}");
}
