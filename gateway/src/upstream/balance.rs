//! Weighted choice among targets: a precomputed schedule of slots (smooth weighted
//! round-robin order) read at a random offset, so picking takes no lock and no shared counter.

use std::cell::Cell;

/// Slots in target order proportional to weight, interleaved.
#[derive(Debug)]
pub(super) struct Schedule {
    slots: Box<[u16]>,
}

/// Most slots a schedule holds; weights are scaled down past it.
const MAX_SLOTS: u32 = 1000;

impl Schedule {
    pub(super) fn new(weights: &[u32]) -> Schedule {
        let divisor = weights.iter().copied().filter(|weight| *weight > 0).fold(0, gcd).max(1);
        let mut scaled: Vec<u32> = weights.iter().map(|weight| weight / divisor).collect();
        let total: u32 = scaled.iter().sum();
        if total > MAX_SLOTS {
            for weight in &mut scaled {
                *weight =
                    (u64::from(*weight) * u64::from(MAX_SLOTS) / u64::from(total)).max(u64::from(*weight > 0)) as u32;
            }
        }
        // Smooth weighted round-robin (as nginx does): spreads a heavy target's slots out.
        let total: i64 = scaled.iter().map(|weight| i64::from(*weight)).sum();
        let mut current = vec![0i64; scaled.len()];
        let mut slots = Vec::with_capacity(total as usize);
        for _ in 0..total {
            for (index, weight) in scaled.iter().enumerate() {
                current[index] += i64::from(*weight);
            }
            let (best, _) = current
                .iter()
                .enumerate()
                .max_by_key(|(index, value)| (**value, std::cmp::Reverse(*index)))
                .expect("targets");
            current[best] -= total;
            slots.push(best as u16);
        }
        Schedule { slots: slots.into() }
    }

    /// A target for which `usable` holds, starting at a random slot.
    pub(super) fn pick(&self, usable: impl Fn(usize) -> bool) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let start = (random() % self.slots.len() as u64) as usize;
        (0..self.slots.len())
            .map(|offset| usize::from(self.slots[(start + offset) % self.slots.len()]))
            .find(|index| usable(*index))
    }
}

fn gcd(left: u32, right: u32) -> u32 {
    if right == 0 { left } else { gcd(right, left % right) }
}

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let address = &STATE as *const _ as u64;
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    (address ^ time) | 1
}

/// xorshift64*: a per-thread generator, good enough to spread load; not for secrets.
fn random() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

#[cfg(test)]
pub(super) fn slots(schedule: &Schedule) -> &[u16] {
    &schedule.slots
}
