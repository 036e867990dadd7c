use super::*;
use crate::access::{AccessRequest, Decision, MethodSet, evaluate};

const SNAPSHOT: &str = r#"{
  "format": 1, "revision": 3,
  "apis": [
    { "name": "pets", "path_prefix": "/pets", "upstream": { "targets": [{ "url": "http://127.0.0.1:9000" }] },
      "versions": [
        { "name": "v1", "status": "published", "selector": { "kind": "path", "segment": "v1" },
          "operations": [{ "id": "getPet", "method": "GET", "path": "/{id}" }, { "id": "mine", "method": "GET", "path": "/mine" }] },
        { "name": "v2", "status": "published", "selector": { "kind": "header", "name": "api-version", "value": "2" } },
        { "name": "v3", "status": "deprecated" }
      ] },
    { "name": "hr", "host": "hr.example.com", "path_prefix": "/", "upstream": { "targets": [{ "url": "http://127.0.0.1:9001/base/" }] } }
  ],
  "plans": [{ "name": "gold", "rate_limit": { "requests": 10, "window_seconds": 1 } }],
  "consumers": [{ "key_hash": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "key_id": "k1", "user": "alice", "application": "app", "groups": ["staff"] }],
  "access_rules": [{ "policy": "staff-pets", "groups": ["staff"], "api": "pets", "versions": ["v1"], "methods": ["GET"], "operations": ["mine"], "plan": "gold" }]
}"#;

fn compiled() -> CompiledSnapshot {
    CompiledSnapshot::compile(&Snapshot::parse(SNAPSHOT.as_bytes()).unwrap(), None).unwrap()
}

fn errors(json: &str) -> Vec<String> {
    let snapshot = Snapshot::parse(json.as_bytes()).unwrap();
    let errors = CompiledSnapshot::compile(&snapshot, None).expect_err("refused");
    errors.0.iter().map(ToString::to_string).collect()
}

#[test]
fn versions_are_selected_by_path_header_then_default() {
    let snapshot = compiled();
    let pets = &snapshot.apis[0];
    let mut headers = http::HeaderMap::new();
    assert_eq!(
        pets.select_version("/v1/12", &headers, None),
        VersionChoice::Version {
            index: 0,
            segment_len: 3
        }
    );
    assert_eq!(
        pets.select_version("", &headers, None),
        VersionChoice::Version {
            index: 2,
            segment_len: 0
        }
    );
    headers.insert("api-version", "2".parse().unwrap());
    assert_eq!(
        pets.select_version("/12", &headers, None),
        VersionChoice::Version {
            index: 1,
            segment_len: 0
        }
    );
    assert_eq!(
        snapshot.apis[1].select_version("/x", &headers, None),
        VersionChoice::Unversioned
    );
    assert_eq!(snapshot.apis[1].upstream.targets[0].base_path.as_ref(), "/base");
}

#[test]
fn operations_match_literal_paths_before_templates() {
    let snapshot = compiled();
    let v1 = &snapshot.apis[0].versions[0];
    let get = MethodSet::bit("GET");
    assert_eq!(v1.operation(get, "/mine").map(|operation| &*operation.id), Some("mine"));
    assert_eq!(v1.operation(get, "/12").map(|operation| &*operation.id), Some("getPet"));
    assert!(v1.operation(get, "/12/toys").is_none());
    assert!(v1.operation(MethodSet::bit("POST"), "/12").is_none());
}

#[test]
fn keys_and_rules_resolve_to_groups_and_plans() {
    let snapshot = compiled();
    let mut hash = [0u8; 32];
    hex::decode_to_slice(
        "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        &mut hash,
    )
    .unwrap();
    let (key, alice) = snapshot.consumers.get(&hash).expect("alice's key");
    assert_eq!(snapshot.consumers.key_id(key), "k1");
    assert_eq!(&*alice.user, "alice");
    let request = AccessRequest {
        groups: &alice.groups,
        version: Some(0),
        method: MethodSet::bit("GET"),
        operation: Some("mine"),
        client: crate::access::ClientAddress::Any,
    };
    assert_eq!(
        evaluate(&snapshot.apis[0].rules, &request),
        Decision::Allowed { rule: 0, plan: 0 }
    );
    assert_eq!(snapshot.group_ids(["staff", "nobody"]), alice.groups.to_vec());
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let broken = SNAPSHOT
        .replace(
            r#""path_prefix": "/", "upstream": { "targets": [{ "url": "http://127.0.0.1:9001/base/" }] }"#,
            r#""path_prefix": "/", "upstream": { "targets": [{ "url": "ftp://x" }] }"#,
        )
        .replace(r#""versions": ["v1"]"#, r#""versions": ["v9"]"#)
        .replace(r#""plan": "gold""#, r#""plan": "lead""#)
        .replace(r#""key_hash": "5e88"#, r#""key_hash": "zz88"#);
    assert_eq!(
        errors(&broken),
        [
            "apis[1].upstream.targets[0].url: must be http:// or https://",
            "access_rules[0].versions[0]: API `pets` has no version `v9`",
            "access_rules[0].plan: unknown plan `lead`",
            "consumers[0].key_hash: must be 64 hex digits (SHA-256)",
        ]
    );
    let collision = SNAPSHOT.replace(
        r#""host": "hr.example.com", "path_prefix": "/""#,
        r#""path_prefix": "/pets/""#,
    );
    assert_eq!(
        errors(&collision),
        ["apis[1].path_prefix: route `*/pets` is already claimed by API `pets`"]
    );
}

#[test]
fn client_certificates_have_their_own_table_and_an_entry_holds_one_credential() {
    let fingerprint = "ab884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
    let with_certificate = SNAPSHOT.replace(
        r#""consumers": ["#,
        &format!(
            r#""consumers": [{{ "certificate_sha256": "{fingerprint}", "key_id": "cert_1", "user": "alice", "application": "app", "groups": ["staff"] }},"#
        ),
    );
    let snapshot = CompiledSnapshot::compile(&Snapshot::parse(with_certificate.as_bytes()).unwrap(), None).unwrap();
    let mut hash = [0u8; 32];
    hex::decode_to_slice(fingerprint, &mut hash).unwrap();
    let (entry, alice) = snapshot.consumers.get_certificate(&hash).expect("alice's certificate");
    assert_eq!(snapshot.consumers.key_id(entry), "cert_1");
    assert_eq!(&*alice.application, "app");
    assert!(snapshot.consumers.get(&hash).is_none(), "a fingerprint is no API key");
    // The key and the certificate of one application share its consumer.
    let (_, by_key) = snapshot.consumers.get(&key_hash()).unwrap();
    assert!(Arc::ptr_eq(&alice.groups, &by_key.groups));
    assert_eq!(snapshot.consumers.len(), 2);

    let both = SNAPSHOT.replace(
        r#""key_id": "k1""#,
        &format!(r#""certificate_sha256": "{fingerprint}", "key_id": "k1""#),
    );
    assert_eq!(
        errors(&both),
        ["consumers[0]: holds both key_hash and certificate_sha256; an entry is one credential"]
    );
    let neither = SNAPSHOT.replace(
        r#""key_hash": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "#,
        "",
    );
    assert_eq!(
        errors(&neither),
        ["consumers[0]: needs key_hash (an API key) or certificate_sha256 (a client certificate)"]
    );
    let short = with_certificate.replace(fingerprint, "ab88");
    assert_eq!(
        errors(&short),
        ["consumers[0].certificate_sha256: must be 64 hex digits (SHA-256)"]
    );
}

fn key_hash() -> [u8; 32] {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(
        "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        &mut hash,
    )
    .unwrap();
    hash
}

#[test]
fn access_rules_ip_lists_are_checked_by_entry_and_shared_by_equal_rules() {
    let restricted = SNAPSHOT.replace(
        r#""operations": ["mine"], "plan": "gold" }]"#,
        r#""operations": ["mine"], "plan": "gold", "ip_allow": ["10.0.0.0/8"], "ip_deny": ["10.9.0.0/16"] },
           { "policy": "staff-pets", "groups": ["staff"], "api": "pets", "versions": ["v2"], "plan": "gold", "ip_allow": ["10.0.0.0/8"], "ip_deny": ["10.9.0.0/16"] },
           { "policy": "staff-hr", "groups": ["staff"], "api": "hr", "plan": "gold" }]"#,
    );
    let snapshot = CompiledSnapshot::compile(&Snapshot::parse(restricted.as_bytes()).unwrap(), None).unwrap();
    let rules = &snapshot.apis[0].rules;
    let (first, second) = (rules[0].ip.as_ref().unwrap(), rules[1].ip.as_ref().unwrap());
    assert!(Arc::ptr_eq(first, second), "one policy's lists are compiled once");
    assert_eq!(first.describe(crate::edge::cidr::IpList::Deny), "10.9.0.0/16");
    assert!(snapshot.apis[1].rules[0].ip.is_none(), "a rule without lists has none");

    let broken = restricted.replacen(
        r#""ip_allow": ["10.0.0.0/8"]"#,
        r#""ip_allow": ["10.0.0.0/8", "10.0.0.1/8"]"#,
        1,
    );
    assert_eq!(
        errors(&broken),
        ["access_rules[0].ip_allow[1]: `10.0.0.1/8` has host bits set; write the network address"]
    );
}
