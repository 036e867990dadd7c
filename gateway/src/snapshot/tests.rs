use super::*;

fn parse_error(json: &str) -> String {
    Snapshot::parse(json.as_bytes()).expect_err("refused").to_string()
}

#[test]
fn a_minimal_document_parses_with_defaults() {
    let snapshot = Snapshot::parse(
        br#"{"format":1,"apis":[{"name":"pets","path_prefix":"/pets","upstream":{"targets":[{"url":"http://127.0.0.1:1"}]}}]}"#,
    )
    .unwrap();
    let api = &snapshot.apis[0];
    assert_eq!(api.authentication.api_key_header, "x-api-key");
    assert_eq!(api.upstream.targets[0].weight, 100);
    assert_eq!(api.upstream.passive_health.failures, 5);
}

#[test]
fn errors_name_the_field() {
    assert_eq!(
        parse_error(r#"{"format":1,"apis":[{"name":"p","path_prefix":"/","upstream":{"targets":[{"url":"x","weight":"heavy"}]}}]}"#)
            .split(':')
            .next(),
        Some("apis[0].upstream.targets[0].weight")
    );
    assert!(parse_error(r#"{"format":1,"plans":[{"name":"p","rate":{}}]}"#).contains("unknown field `rate`"));
    assert_eq!(
        parse_error(r#"{"format":7}"#),
        "format: 7 is not supported; this gateway reads format 1"
    );
    assert!(parse_error("{").starts_with("document: "), "{}", parse_error("{"));
    let trailing = parse_error(r#"{"format":1} {"format":1}"#);
    assert!(trailing.starts_with("document: trailing characters"), "{trailing}");
}

#[test]
fn the_content_hash_is_checked() {
    let mut snapshot = Snapshot::empty();
    snapshot.revision = 4;
    let json = snapshot.to_json_with_hash();
    let parsed = Snapshot::parse(json.as_bytes()).unwrap();
    assert_eq!(parsed.revision, 4);
    assert_eq!(parsed.content_hash, content_hash(&snapshot));
    let renumbered = json.replace("\"revision\": 4", "\"revision\": 5");
    assert_eq!(
        Snapshot::parse(renumbered.as_bytes()).unwrap().revision,
        5,
        "the hash covers content, not the number"
    );
    let tampered = json.replace("\"plans\": []", "\"plans\": [{\"name\": \"free\"}]");
    assert!(parse_error(&tampered).starts_with("content_hash:"), "{tampered}");
}
