use super::*;
use crate::snapshot::TargetSpec;

fn upstream(weights: &[u32], failures: u32) -> Upstream {
    let spec = UpstreamSpec {
        targets: weights
            .iter()
            .enumerate()
            .map(|(index, weight)| TargetSpec {
                url: format!("http://127.0.0.1:{}", 9000 + index),
                weight: *weight,
            })
            .collect(),
        connect_timeout_ms: 100,
        read_timeout_ms: 100,
        retries: 1,
        passive_health: PassiveHealthSpec {
            failures,
            cooldown_ms: 1000,
        },
        active_health: None,
        tls: None,
    };
    let mut problems = Problems::default();
    let upstream = Upstream::compile(&spec, "upstream", None, &mut problems);
    assert!(problems.0.is_empty(), "{:?}", problems.0);
    upstream
}

#[test]
fn weights_shape_the_schedule() {
    let canary = upstream(&[90, 10], 5);
    let slots = balance::slots(&canary.schedule);
    assert_eq!(slots.len(), 10);
    assert_eq!(slots.iter().filter(|slot| **slot == 1).count(), 1);
    let drained = upstream(&[0, 50], 5);
    assert!(balance::slots(&drained.schedule).iter().all(|slot| *slot == 1));
    let mut counts = [0u32; 2];
    for _ in 0..1000 {
        counts[canary.pick(0, None).unwrap()] += 1;
    }
    assert!((850..=950).contains(&counts[0]), "{counts:?}");
}

#[test]
fn consecutive_failures_eject_until_the_cooldown_ends() {
    let pair = upstream(&[1, 1], 2);
    pair.record(0, false, 0);
    assert!(pair.targets[0].is_available(0), "one failure is not enough");
    pair.record(0, false, 0);
    assert!(!pair.targets[0].is_available(500));
    assert!((0..100).all(|_| pair.pick(500, None) == Some(1)));
    assert!(pair.targets[0].is_available(1000), "back after the cool-down");
    pair.record(1, false, 0);
    pair.record(1, true, 0);
    pair.record(1, false, 0);
    assert!(pair.targets[1].is_available(0), "a success resets the count");
}

#[test]
fn when_every_target_is_out_one_is_still_tried() {
    let single = upstream(&[1], 1);
    single.record(0, false, 0);
    assert_eq!(single.pick(10, None), Some(0));
    assert_eq!(
        single.pick(10, Some(0)),
        None,
        "a retry does not go back to the target that failed"
    );
}
