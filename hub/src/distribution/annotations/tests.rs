use chrono::{TimeZone, Utc};

use super::{Annotation, Grafana};
use crate::domain::events::Event;
use crate::model::RevisionKind;

fn event(kind: RevisionKind, message: &str, source_commit: Option<&str>) -> Event {
    Event {
        revision: 7,
        kind,
        time: Utc.timestamp_millis_opt(1_767_225_600_123).unwrap(),
        author: "alice".into(),
        message: message.into(),
        source_commit: source_commit.map(str::to_owned),
        rolled_back_to: (kind == RevisionKind::Rollback).then_some(5),
    }
}

#[test]
fn a_publish_is_a_point_annotation_tagged_with_its_kind_and_revision() {
    let annotation = Annotation::of(&event(
        RevisionKind::Publish,
        "lower the gold plan",
        Some("abc1234def5678"),
    ));
    assert_eq!(
        serde_json::to_value(&annotation).unwrap(),
        serde_json::json!({
            "time": 1_767_225_600_123_i64,
            "tags": ["gatehouse", "publish", "revision:7"],
            "text": "lower the gold plan — revision 7 by alice (commit abc1234)",
        })
    );
}

#[test]
fn a_rollback_is_tagged_rollback_and_an_empty_message_is_left_out() {
    let annotation = Annotation::of(&event(RevisionKind::Rollback, "", None));
    assert_eq!(annotation.tags, ["gatehouse", "rollback", "revision:7"]);
    assert_eq!(annotation.text, "revision 7 by alice");
}

#[test]
fn the_endpoint_is_under_the_root_given_and_the_token_never_prints() {
    let grafana = Grafana::new("https://grafana.example.com/sub/", "glsa_secret");
    assert_eq!(grafana.endpoint(), "https://grafana.example.com/sub/api/annotations");
    assert!(!format!("{grafana:?}").contains("glsa_secret"));
}
