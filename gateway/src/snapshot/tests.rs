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

#[test]
fn borrowed_consumers_parse_and_hash_as_owned_ones() {
    let json = r#"{"format":1,"revision":3,"consumers":[
        {"key_hash":"5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8","key_id":"k1","user":"alice","application":"app","groups":["staff","ops"]},
        {"key_hash":"6e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8","key_id":"k2","user":"b\u00e9a \"q\"","application":"app","expires_at":99}
    ]}"#;
    let owned = Snapshot::parse(json.as_bytes()).unwrap();
    let borrowed = Snapshot::parse_borrowed(json.as_bytes()).unwrap();
    assert_eq!(content_hash(&owned), content_hash(&borrowed));
    assert!(matches!(borrowed.consumers[0].user, Cow::Borrowed("alice")));
    // A string with escapes cannot borrow; it is copied, unescaped.
    assert_eq!(borrowed.consumers[1].user, "béa \"q\"");
    assert_eq!(borrowed.consumers[1].groups, Vec::<Cow<str>>::new());
    assert_eq!(borrowed.consumers[1].expires_at, Some(99));
    // Both refuse the same mistakes, naming the same field.
    let unknown = r#"{"format":1,"consumers":[{"key_hash":"x","key_id":"k","user":"u","application":"a","group":[]}]}"#;
    let borrowed_error = Snapshot::parse_borrowed(unknown.as_bytes()).unwrap_err().to_string();
    assert!(borrowed_error.starts_with("consumers[0]"), "{borrowed_error}");
    assert_eq!(borrowed_error, parse_error(unknown));
}

#[test]
fn client_certificate_consumers_borrow_and_old_documents_hash_as_before() {
    let keys_only = r#"{"format":1,"apis":[{"name":"p","path_prefix":"/","upstream":{"targets":[{"url":"http://127.0.0.1:1"}]}}],
        "consumers":[{"key_hash":"5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8","key_id":"k1","user":"alice","application":"app"}]}"#;
    let snapshot = Snapshot::parse(keys_only.as_bytes()).unwrap();
    // Neither the new API flag nor the certificate field is written when unused, so a document
    // from before them serialises, and hashes, as it always did.
    let written = serde_json::to_string(&snapshot).unwrap();
    assert!(!written.contains("client_certificate"), "{written}");
    assert!(!written.contains("certificate_sha256"), "{written}");
    assert!(written.contains(r#""key_hash":"5e88"#), "{written}");

    let with_certificate = keys_only
        .replace(r#""upstream""#, r#""authentication":{"client_certificate":true},"upstream""#)
        .replace(
            r#""consumers":["#,
            r#""consumers":[{"certificate_sha256":"ab884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8","key_id":"cert_1","user":"bob","application":"app","expires_at":99},"#,
        );
    let owned = Snapshot::parse(with_certificate.as_bytes()).unwrap();
    let borrowed = Snapshot::parse_borrowed(with_certificate.as_bytes()).unwrap();
    assert!(owned.apis[0].authentication.client_certificate);
    assert_eq!(content_hash(&owned), content_hash(&borrowed));
    assert_ne!(content_hash(&owned), content_hash(&snapshot));
    assert!(matches!(
        borrowed.consumers[0].certificate_sha256,
        Some(Cow::Borrowed(_))
    ));
    assert!(matches!(borrowed.consumers[1].key_hash, Some(Cow::Borrowed(_))));
    assert_eq!(borrowed.consumers[0].key_hash, None);
    assert_eq!(owned.consumers[0].key_hash, None);
}
