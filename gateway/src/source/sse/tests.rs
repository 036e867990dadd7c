use super::{Event, Parser};

/// Feeds `stream` in chunks of every size from 1 byte to all of it, and checks each split
/// gives the same events.
fn check(stream: &str, expected: &[(&str, &str, &str)]) {
    let expected: Vec<Event> = expected
        .iter()
        .map(|(kind, data, id)| Event {
            kind: (*kind).to_owned(),
            data: (*data).to_owned(),
            id: (*id).to_owned(),
        })
        .collect();
    for size in 1..=stream.len().max(1) {
        let mut parser = Parser::new(1 << 20);
        let mut events = Vec::new();
        for chunk in stream.as_bytes().chunks(size) {
            events.extend(parser.feed(chunk).unwrap());
        }
        assert_eq!(events, expected, "in chunks of {size} bytes");
    }
}

#[test]
fn one_line_snapshot_event() {
    check(
        "event: snapshot\nid: 7\ndata: {\"format\":1}\n\n",
        &[("snapshot", "{\"format\":1}", "7")],
    );
}

#[test]
fn data_lines_join_with_newlines() {
    check("data: a\ndata:b\ndata:  c\n\n", &[("message", "a\nb\n c", "")]);
}

#[test]
fn every_line_ending_works() {
    check(
        "event: snapshot\r\nid: 1\r\ndata: x\r\n\r\nevent: snapshot\rid: 2\rdata: y\r\rdata: z\n\n",
        &[("snapshot", "x", "1"), ("snapshot", "y", "2"), ("message", "z", "2")],
    );
}

#[test]
fn comments_and_unknown_fields_are_skipped() {
    check(
        ": keepalive\n\n: keepalive\r\nfoo: bar\nevent: snapshot\n: in the middle\ndata: x\n\n",
        &[("snapshot", "x", "")],
    );
}

#[test]
fn an_event_without_data_is_not_dispatched_but_its_id_sticks() {
    check("event: snapshot\nid: 4\n\ndata: x\n\n", &[("message", "x", "4")]);
}

#[test]
fn an_unfinished_event_is_not_dispatched() {
    check("event: snapshot\ndata: x\n", &[]);
    check("event: snapshot\ndata: x", &[]);
}

#[test]
fn a_field_without_colon_has_an_empty_value() {
    check("data\ndata\n\n", &[("message", "\n", "")]);
}

#[test]
fn a_byte_order_mark_opening_the_stream_is_dropped() {
    check("\u{feff}data: x\n\n", &[("message", "x", "")]);
}

#[test]
fn retry_is_skipped() {
    check("retry: 2500\ndata: x\n\n", &[("message", "x", "")]);
}

#[test]
fn an_event_over_the_limit_is_refused() {
    let mut parser = Parser::new(16);
    assert!(parser.feed(b"data: 0123456789").is_ok());
    assert!(parser.feed(b"0123456789").is_err());
    let mut parser = Parser::new(16);
    assert!(parser.feed(b"data: 0123456789\ndata: 0123456789\n").is_err());
}
