//! The rate-limit algorithm, GCRA (the generic cell rate algorithm), as pure arithmetic on one stored
//! number and `now`; where that number lives (memory or Redis) and where `now` comes from are not
//! its concern.
//!
//! Why GCRA. A plan says "N requests per window". GCRA keeps one number per key, the theoretical
//! arrival time (TAT): the instant at which the key's burst allowance would be whole again. A request
//! at `now` is admitted when `TAT − now ≤ τ`, and moves TAT to `max(TAT, now) + T`, where
//! `T = ⌈window / N⌉` is the spacing at the sustained rate and `τ = (N − 1)·T` lets a key that was
//! idle send N at once.
//! - In steady state it admits exactly one request per `T`, so N per window whichever way the windows
//!   are laid: a fixed window gives N per *aligned* window but lets 2N through across a boundary, and
//!   every key's window resets at the same instant, which synchronises clients.
//! - A key that was idle may burst N and then continue at the rate, so the first window after idle
//!   admits up to 2N − 1 (N at once, N − 1 refilled); a sliding log would avoid that at the cost of
//!   N timestamps per key.
//! - It is cheap and exact in both stores: one integer per key, and the decision uses only `+`, `−`
//!   and comparisons on microseconds, which Lua's doubles represent exactly below 2^53 (times until
//!   the year 2255), so the Redis script and this module agree decision for decision.
//! - Rounding `T` up means at most N per window: with N = 7 per minute, 7 per 60.000003 s.
//!
//! Times are microseconds since the Unix epoch (`u64`); a stored TAT of 0 means "never seen".

use std::time::Duration;

/// GCRA's two parameters for one rate limit, computed when the plan loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Gcra {
    requests: u64,
    /// T: the spacing of requests at the sustained rate, rounded up.
    emission_us: u64,
    /// τ: how far TAT may run ahead of now and still admit a request: (N − 1)·T.
    tolerance_us: u64,
}

impl Gcra {
    /// Parameters for `requests` per `window_us`; the caller has checked `1 ≤ requests ≤ window_us`.
    pub(super) fn new(requests: u64, window_us: u64) -> Gcra {
        let emission_us = window_us.div_ceil(requests);
        Gcra {
            requests,
            emission_us,
            tolerance_us: emission_us * (requests - 1),
        }
    }

    /// N, the burst and the number per window.
    pub(super) fn requests(&self) -> u64 {
        self.requests
    }

    /// T, for the Redis script.
    pub(super) fn emission_us(&self) -> u64 {
        self.emission_us
    }

    /// τ, for the Redis script.
    pub(super) fn tolerance_us(&self) -> u64 {
        self.tolerance_us
    }

    /// Whether a request at `now_us` is admitted, given the stored TAT.
    pub(super) fn admits(&self, tat_us: u64, now_us: u64) -> bool {
        ahead(tat_us, now_us) <= self.tolerance_us
    }

    /// The TAT after admitting a request at `now_us`.
    pub(super) fn admit(&self, tat_us: u64, now_us: u64) -> u64 {
        tat_us.max(now_us) + self.emission_us
    }

    /// How many requests would be admitted at `now_us`, one after the other, given TAT.
    pub(super) fn remaining(&self, tat_us: u64, now_us: u64) -> u64 {
        match self.tolerance_us.checked_sub(ahead(tat_us, now_us)) {
            Some(slack_us) => slack_us / self.emission_us + 1,
            None => 0,
        }
    }

    /// How long until the whole burst is available again: the `t` of the `RateLimit` header.
    pub(super) fn reset(&self, tat_us: u64, now_us: u64) -> Duration {
        Duration::from_micros(ahead(tat_us, now_us))
    }

    /// How long until a request would be admitted; zero when one would be now.
    pub(super) fn retry_after(&self, tat_us: u64, now_us: u64) -> Duration {
        Duration::from_micros(ahead(tat_us, now_us).saturating_sub(self.tolerance_us))
    }
}

/// How far TAT runs ahead of now: the part of the burst in use.
fn ahead(tat_us: u64, now_us: u64) -> u64 {
    tat_us.saturating_sub(now_us)
}

#[cfg(test)]
mod tests;
