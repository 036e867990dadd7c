//! Tests of the GCRA arithmetic alone: bursts, refills, and N per window in steady state.

use super::*;

const SECOND_US: u64 = 1_000_000;
/// An arbitrary instant (2026-11-25 13:00 UTC), so that no test starts at zero by accident.
const T0_US: u64 = 1_795_611_600 * SECOND_US;

/// Runs requests at `offsets_ms` after T0 through `requests` per `window_secs`, and checks the
/// verdicts: `+` admitted, `-` refused.
fn check(requests: u64, window_secs: u64, offsets_ms: &[u64], expected: &str) {
    let gcra = Gcra::new(requests, window_secs * SECOND_US);
    let mut tat_us = 0;
    let mut actual = String::new();
    for offset_ms in offsets_ms {
        let now_us = T0_US + offset_ms * 1_000;
        if gcra.admits(tat_us, now_us) {
            tat_us = gcra.admit(tat_us, now_us);
            actual.push('+');
        } else {
            actual.push('-');
        }
    }
    assert_eq!(actual, expected, "{requests} per {window_secs} s at {offsets_ms:?}");
}

/// Requests every `every_ms` for `n_windows` windows; the number admitted in each window of
/// `window_secs` starting `phase_ms` after T0, the first (burst) window left out.
fn admitted_per_window(requests: u64, window_secs: u64, every_ms: u64, n_windows: u64, phase_ms: u64) -> Vec<u64> {
    let gcra = Gcra::new(requests, window_secs * SECOND_US);
    let window_ms = window_secs * 1_000;
    let mut counts = vec![0; n_windows as usize];
    let mut tat_us = 0;
    for offset_ms in (0..(n_windows + 2) * window_ms).step_by(every_ms as usize) {
        let now_us = T0_US + offset_ms * 1_000;
        if gcra.admits(tat_us, now_us) {
            tat_us = gcra.admit(tat_us, now_us);
            let window_idx = offset_ms.checked_sub(phase_ms + window_ms).map(|ms| ms / window_ms);
            if let Some(count) = window_idx.and_then(|window_idx| counts.get_mut(window_idx as usize)) {
                *count += 1;
            }
        }
    }
    counts
}

#[test]
fn idle_key_bursts_n_then_is_refused() {
    check(3, 60, &[0, 0, 0, 0], "+++-");
    check(1, 60, &[0, 0], "+-");
}

#[test]
fn one_request_comes_back_per_emission_interval() {
    // 3 per minute: one every 20 s once the burst is spent.
    check(3, 60, &[0, 0, 0, 19_999, 20_000, 20_000, 39_999, 40_000], "+++-+--+");
}

#[test]
fn a_whole_window_of_rest_restores_the_whole_burst() {
    check(3, 60, &[0, 0, 0, 60_000, 60_000, 60_000, 60_000], "++++++-");
    check(3, 60, &[0, 0, 0, 59_999, 59_999, 59_999], "+++++-");
}

#[test]
fn one_per_window_allows_no_burst() {
    check(1, 60, &[0, 59_999, 60_000, 60_001, 120_000], "+-+-+");
}

#[test]
fn steady_state_admits_exactly_n_per_window_whatever_the_phase() {
    for phase_ms in [0, 1, 370, 999] {
        let counts = admitted_per_window(10, 1, 1, 20, phase_ms);
        assert_eq!(counts, vec![10; 20], "phase {phase_ms} ms");
    }
    assert_eq!(admitted_per_window(100, 60, 50, 10, 12_345), vec![100; 10]);
}

#[test]
fn uneven_division_never_exceeds_n_per_window() {
    // 7 per minute: T is rounded up to 8 571 429 µs, so a window admits 7, or 6 once in a long while.
    let counts = admitted_per_window(7, 60, 100, 200, 0);
    assert!(counts.iter().all(|&count| count == 6 || count == 7), "{counts:?}");
    assert!(counts.iter().sum::<u64>() >= 7 * 200 - 1, "{counts:?}");
}

#[test]
fn remaining_reset_and_retry_after_follow_the_arrival_time() {
    let gcra = Gcra::new(3, 60 * SECOND_US);
    let now_us = T0_US;
    assert_eq!(gcra.remaining(0, now_us), 3);
    assert_eq!(gcra.reset(0, now_us), Duration::ZERO);
    let after_one = gcra.admit(0, now_us);
    assert_eq!(gcra.remaining(after_one, now_us), 2);
    assert_eq!(gcra.reset(after_one, now_us), Duration::from_secs(20));
    let after_three = gcra.admit(gcra.admit(after_one, now_us), now_us);
    assert_eq!(gcra.remaining(after_three, now_us), 0);
    assert_eq!(gcra.reset(after_three, now_us), Duration::from_secs(60));
    assert_eq!(gcra.retry_after(after_three, now_us), Duration::from_secs(20));
    assert_eq!(
        gcra.retry_after(after_three, now_us + 5 * SECOND_US),
        Duration::from_secs(15)
    );
    assert_eq!(gcra.remaining(after_three, now_us + 20 * SECOND_US), 1);
}
