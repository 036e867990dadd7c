//! How long to wait before reconnecting to the hub: a base that doubles with each failure, from
//! a minimum to a maximum, with ±50% jitter so a fleet of gateways does not reconnect in step
//! after the hub restarts.

use std::time::Duration;

/// Reconnection delays for one connection.
#[derive(Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    failures: u32,
    random: Random,
}

impl Backoff {
    /// Delays from `min` to `max` (before jitter).
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max: max.max(min),
            failures: 0,
            random: Random::seeded(),
        }
    }

    /// The wait before the next attempt; each call doubles the next one's base, up to `max`.
    pub fn next_delay(&mut self) -> Duration {
        let base = base_delay(self.min, self.max, self.failures);
        self.failures = self.failures.saturating_add(1);
        jittered(base, self.random.unit())
    }

    /// The longest wait, jittered: for a refusal that a quick retry will not change.
    pub fn longest_delay(&mut self) -> Duration {
        jittered(self.max, self.random.unit())
    }

    /// Back to `min`, after a connection that worked.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// `min · 2^failures`, at most `max`.
pub(crate) fn base_delay(min: Duration, max: Duration, failures: u32) -> Duration {
    let factor = 1u32.checked_shl(failures).unwrap_or(u32::MAX);
    min.saturating_mul(factor).min(max)
}

/// `base` times a factor in [0.5, 1.5), given `unit` in [0, 1).
pub(crate) fn jittered(base: Duration, unit: f64) -> Duration {
    base.mul_f64(0.5 + unit.clamp(0.0, 1.0))
}

/// xorshift64*: jitter needs no more, and the gateway no random-number crate.
#[derive(Debug)]
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        use std::hash::BuildHasher;
        // The standard library seeds each `RandomState` from the operating system.
        let seed = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        Random(seed | 1)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (value >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests;
