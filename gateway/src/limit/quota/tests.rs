//! Tests of the calendar: day and month boundaries in UTC, leap years, labels.

use super::*;

const US_PER_HOUR: u64 = 3_600_000_000;

/// Microseconds since the epoch at `hour`:00 UTC on a date.
fn at(year: u64, month: u64, day: u64, hour: u64) -> u64 {
    days_from_civil(year, month, day) * US_PER_DAY + hour * US_PER_HOUR
}

/// Checks the period of kind `period` containing `now_us`: its label, its start and its end.
fn check(period: QuotaPeriod, now_us: u64, expected_label: &str, expected_start_us: u64, expected_end_us: u64) {
    let actual = period_at(period, now_us);
    assert_eq!(label(period, actual.start_us), expected_label, "{period:?} at {now_us}");
    assert_eq!(
        (actual.start_us, actual.end_us),
        (expected_start_us, expected_end_us),
        "{period:?} at {now_us}"
    );
}

#[test]
fn a_day_runs_from_midnight_to_midnight_utc() {
    let day = QuotaPeriod::Day;
    check(
        day,
        at(2026, 11, 25, 13),
        "2026-11-25",
        at(2026, 11, 25, 0),
        at(2026, 11, 26, 0),
    );
    check(
        day,
        at(2026, 11, 25, 0),
        "2026-11-25",
        at(2026, 11, 25, 0),
        at(2026, 11, 26, 0),
    );
    check(
        day,
        at(2026, 11, 26, 0) - 1,
        "2026-11-25",
        at(2026, 11, 25, 0),
        at(2026, 11, 26, 0),
    );
    check(
        day,
        at(2026, 12, 31, 23),
        "2026-12-31",
        at(2026, 12, 31, 0),
        at(2027, 1, 1, 0),
    );
    check(day, 0, "1970-01-01", 0, US_PER_DAY);
}

#[test]
fn a_month_runs_from_the_first_to_the_first() {
    let month = QuotaPeriod::Month;
    check(
        month,
        at(2026, 11, 25, 13),
        "2026-11",
        at(2026, 11, 1, 0),
        at(2026, 12, 1, 0),
    );
    check(
        month,
        at(2026, 12, 31, 23),
        "2026-12",
        at(2026, 12, 1, 0),
        at(2027, 1, 1, 0),
    );
    check(
        month,
        at(2027, 1, 1, 0),
        "2027-01",
        at(2027, 1, 1, 0),
        at(2027, 2, 1, 0),
    );
    check(
        month,
        at(2028, 2, 29, 12),
        "2028-02",
        at(2028, 2, 1, 0),
        at(2028, 3, 1, 0),
    );
    check(
        month,
        at(2100, 2, 28, 12),
        "2100-02",
        at(2100, 2, 1, 0),
        at(2100, 3, 1, 0),
    );
}

#[test]
fn calendar_arithmetic_matches_known_dates() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(2026, 11, 25), 20_782);
    assert_eq!(days_from_civil(2028, 2, 29), 21_243);
    assert_eq!(days_from_civil(2100, 3, 1), 47_541);
    assert_eq!(civil_from_days(21_244), (2028, 3, 1));
    for days in (0..200_000).step_by(37) {
        let (year, month, day) = civil_from_days(days);
        assert_eq!(days_from_civil(year, month, day), days, "{year}-{month}-{day}");
    }
}
