use super::*;

/// A self-signed ECDSA P-256 certificate for `names`, as (chain PEM, key PEM).
fn certificate(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names).unwrap();
    (certified.cert.pem(), certified.signing_key.serialize_pem())
}

fn loaded(name: &str, names: &[&str]) -> LoadedCertificate {
    let (chain, key) = certificate(names);
    load_pair(name, &chain, &key).unwrap()
}

#[test]
fn sni_picks_exact_then_wildcard_then_nothing() {
    let table = CertificateTable::new(vec![
        loaded("wild", &["*.example.com"]),
        loaded("api", &["api.example.com"]),
    ]);
    let key_of = |name: &str| table.find(name).map(|key| key.cert[0].clone());
    let api = table.certificates()[1].key.cert[0].clone();
    let wild = table.certificates()[0].key.cert[0].clone();
    assert_eq!(key_of("api.example.com"), Some(api.clone()));
    assert_eq!(key_of("API.Example.COM."), Some(api));
    assert_eq!(key_of("web.example.com"), Some(wild));
    // One level only, and not the bare parent.
    assert_eq!(key_of("a.b.example.com"), None);
    assert_eq!(key_of("example.com"), None);
}

#[test]
fn the_default_is_named_default_else_the_first() {
    let first = CertificateTable::new(vec![loaded("one", &["one.test"]), loaded("two", &["two.test"])]);
    assert_eq!(
        first.default_certificate().unwrap().cert[0],
        first.certificates()[0].key.cert[0]
    );
    let named = CertificateTable::new(vec![loaded("one", &["one.test"]), loaded("default", &["two.test"])]);
    assert_eq!(
        named.default_certificate().unwrap().cert[0],
        named.certificates()[1].key.cert[0]
    );
    assert!(CertificateTable::new(Vec::new()).default_certificate().is_none());
}

#[test]
fn inspect_reads_subject_names_expiry_and_fingerprint() {
    let (chain, _) = certificate(&["api.example.com", "*.api.example.com"]);
    let info = inspect(&chain).unwrap();
    assert_eq!(info.dns_names, ["api.example.com", "*.api.example.com"]);
    assert!(info.subject.contains("CN=rcgen self signed cert"), "{}", info.subject);
    // rcgen's default validity ends in 4096.
    assert!(info.not_after > 4_000_000_000, "{}", info.not_after);
    assert_eq!(info.sha256_hex.len(), 64);
}

#[test]
fn bad_pem_and_mismatched_keys_name_their_field() {
    let (chain, key) = certificate(&["a.test"]);
    let (_, other_key) = certificate(&["b.test"]);
    let field = |chain: &str, key: &str| load_pair("x", chain, key).unwrap_err().field;
    assert_eq!(field("not pem", &key), "chain_pem");
    assert_eq!(field(&chain, "not pem"), "key_pem");
    assert_eq!(field(&chain, &other_key), "key_pem");
    assert_eq!(inspect("").unwrap_err().field, "chain_pem");
}

#[test]
fn a_snapshot_section_compiles_or_names_each_field() {
    let (chain, key) = certificate(&["a.test"]);
    let good = CertificateSpec {
        name: "a".into(),
        chain_pem: chain.clone(),
        key_pem: key.clone(),
    };
    let spec = TlsSpec {
        certificates: vec![good.clone()],
        client_ca_pem: Some(chain.clone()),
    };
    let compiled = CompiledTls::compile(Some(&spec)).unwrap();
    assert!(compiled.table.find("a.test").is_some());
    assert!(compiled.client_verifier.is_some());

    let spec = TlsSpec {
        certificates: vec![
            good.clone(),
            good.clone(),
            CertificateSpec {
                name: "b".into(),
                chain_pem: chain,
                key_pem: "garbage".into(),
            },
        ],
        client_ca_pem: Some("garbage".into()),
    };
    let fields: Vec<String> = CompiledTls::compile(Some(&spec))
        .unwrap_err()
        .into_iter()
        .map(|error| error.field)
        .collect();
    assert_eq!(
        fields,
        [
            "tls.certificates[1].name",
            "tls.certificates[2].key_pem",
            "tls.client_ca_pem"
        ]
    );
}

#[test]
fn keys_never_print_and_are_redacted_from_documents() {
    let spec = CertificateSpec {
        name: "a".into(),
        chain_pem: "CHAIN".into(),
        key_pem: "SECRET-KEY".into(),
    };
    assert!(!format!("{spec:?}").contains("SECRET-KEY"));
    let mut document = serde_json::json!({"tls": {"certificates": [spec]}});
    redact_keys(&mut document);
    assert_eq!(document["tls"]["certificates"][0]["key_pem"], REDACTED);
    assert_eq!(document["tls"]["certificates"][0]["chain_pem"], "CHAIN");
}

#[test]
fn the_tls_section_is_part_of_the_content_hash() {
    let (chain, key) = certificate(&["a.test"]);
    let mut snapshot = crate::snapshot::Snapshot::empty();
    let without = crate::snapshot::content_hash(&snapshot);
    snapshot.tls = Some(TlsSpec::default());
    let empty = crate::snapshot::content_hash(&snapshot);
    snapshot.tls = Some(TlsSpec {
        certificates: vec![CertificateSpec {
            name: "a".into(),
            chain_pem: chain,
            key_pem: key,
        }],
        client_ca_pem: None,
    });
    let with = crate::snapshot::content_hash(&snapshot);
    // A renewed certificate is a new revision; snapshots without TLS keep their hash.
    assert_ne!(empty, with);
    assert_ne!(without, with);
}

/// A CA certificate (self-signed, `CA:TRUE`), as PEM.
fn ca_certificate() -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "Test CA");
    params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().pem()
}

#[test]
fn a_client_certificate_is_one_leaf_without_its_key() {
    let (leaf, key) = certificate(&[]);
    let info = inspect_client_certificate(&leaf, "certificate_pem").unwrap();
    assert_eq!(info.sha256_hex.len(), 64);
    let check = |pem: &str| {
        inspect_client_certificate(pem, "certificate_pem")
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        check(&format!("{leaf}{key}")),
        "certificate_pem: holds a private key: send only the certificate; its key stays with the client"
    );
    assert!(
        check("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
            .contains("private key")
    );
    assert_eq!(
        check(&format!("{leaf}{}", certificate(&[]).0)),
        "certificate_pem: holds 2 certificates: send only the client's own (leaf) certificate"
    );
    assert!(check(&ca_certificate()).contains("is a CA certificate"));
    assert_eq!(check("hello"), "certificate_pem: holds no `BEGIN CERTIFICATE` block");
}

#[test]
fn a_client_ca_bundle_is_certificates_the_listener_can_trust() {
    let bundle = format!("{}{}", ca_certificate(), ca_certificate());
    let cas = inspect_client_ca(&bundle, "ca_pem").unwrap();
    assert_eq!(cas.len(), 2);
    assert!(cas[0].subject.contains("CN=Test CA"), "{}", cas[0].subject);
    let (_, key) = certificate(&[]);
    assert!(
        inspect_client_ca(&format!("{bundle}{key}"), "ca_pem")
            .unwrap_err()
            .to_string()
            .starts_with("ca_pem: holds a private key"),
    );
    assert_eq!(
        inspect_client_ca("", "ca_pem").unwrap_err().to_string(),
        "ca_pem: holds no `BEGIN CERTIFICATE` block"
    );
}
