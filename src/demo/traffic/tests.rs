use super::*;

#[test]
fn support_mostly_reads_and_sometimes_writes() {
    let mut random = Random(7);
    let mut methods: BTreeMap<String, u32> = BTreeMap::new();
    for _ in 0..10_000 {
        let call = calls::next(Role::Support, &mut random);
        assert!(
            call.path.starts_with("/employees") || call.path.starts_with("/payroll/"),
            "{call:?}"
        );
        *methods.entry(call.method.to_string()).or_default() += 1;
    }
    let gets = methods["GET"];
    assert!((8_000..9_000).contains(&gets), "{methods:?}");
    for method in ["DELETE", "PUT", "POST"] {
        assert!(methods[method] > 300, "{methods:?}");
    }
}

#[test]
fn the_summary_line_counts_by_class_and_names_refusals() {
    let mut tally = Tally {
        sent: 6,
        ..Tally::default()
    };
    for status in [200, 200, 201, 403, 429] {
        tally.answered(Some(status));
    }
    tally.answered(None);
    assert_eq!(
        tally.line(),
        "sent 6  2xx 3  3xx 0  4xx 2 (403 1, 429 1)  5xx 0  no answer 1"
    );
}
