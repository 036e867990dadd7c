//! Quota periods: which calendar day or month (UTC) an instant falls in, when that period ends, and
//! its label in store keys (`2026-11-25`, `2026-11`). Pure arithmetic on microseconds since the
//! epoch; the counting itself is `decide`'s, and where counts are kept is the stores'.

use std::fmt::Write as _;

use super::plan::QuotaPeriod;

const US_PER_DAY: u64 = 86_400 * 1_000_000;

/// One calendar period: `[start_us, end_us)` in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Period {
    pub(super) start_us: u64,
    pub(super) end_us: u64,
}

/// The period of kind `period` that contains `now_us`.
pub(super) fn period_at(period: QuotaPeriod, now_us: u64) -> Period {
    let day = now_us / US_PER_DAY;
    match period {
        QuotaPeriod::Day => Period {
            start_us: day * US_PER_DAY,
            end_us: (day + 1) * US_PER_DAY,
        },
        QuotaPeriod::Month => {
            let (year, month, _) = civil_from_days(day);
            let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
            Period {
                start_us: days_from_civil(year, month, 1) * US_PER_DAY,
                end_us: days_from_civil(next_year, next_month, 1) * US_PER_DAY,
            }
        }
    }
}

/// The label of the period starting at `start_us`, as store keys carry it: `2026-11-25` or `2026-11`.
pub(super) fn label(period: QuotaPeriod, start_us: u64) -> String {
    let (year, month, day) = civil_from_days(start_us / US_PER_DAY);
    let mut label = String::with_capacity(10);
    let _ = match period {
        QuotaPeriod::Day => write!(label, "{year:04}-{month:02}-{day:02}"),
        QuotaPeriod::Month => write!(label, "{year:04}-{month:02}"),
    };
    label
}

/// Year, month (1–12) and day (1–31) of a day counted from 1970-01-01, in the proleptic Gregorian
/// calendar; Howard Hinnant's `civil_from_days`, for days on or after the epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March, so that February's leap day falls at the end of the year.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 to a date on or after it; the inverse of [`civil_from_days`].
pub(super) fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests;
