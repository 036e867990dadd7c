use serde_json::json;

use super::*;

#[test]
fn the_defaults_build_on_the_webpki_roots() {
    let tls = UpstreamTls::build(&UpstreamTlsSpec::default()).expect("the empty spec builds");
    assert!(tls.server_name.is_none());
    assert_eq!(
        tls.server_name_for("api.example.com").unwrap(),
        ServerName::try_from("api.example.com").unwrap()
    );
    assert!(tls.server_name_for("[::1]").is_ok(), "an IPv6 host loses its brackets");
}

#[test]
fn a_key_never_shows_in_debug_or_redacted_documents() {
    let client = ClientCertificateSpec {
        certificate_pem: "CERT".into(),
        key_pem: "-----BEGIN PRIVATE KEY-----secret".into(),
    };
    assert!(!format!("{client:?}").contains("secret"));
    let mut document = json!({
        "apis": [{
            "upstream": { "tls": { "client_certificate": { "certificate_pem": "CERT", "key_pem": "secret" } } },
            "versions": [
                { "upstream": { "tls": { "client_certificate": { "certificate_pem": "CERT", "key_pem": "secret" } } } },
                { "name": "no upstream" }
            ]
        }, { "upstream": { "targets": [] } }]
    });
    redact_document(&mut document);
    let shown = document.to_string();
    assert!(!shown.contains("secret"), "{shown}");
    assert_eq!(shown.matches(REDACTED).count(), 2);
    assert_eq!(shown.matches("CERT").count(), 2, "the certificate stays");
}

#[test]
fn settings_that_differ_get_different_ids() {
    let one = UpstreamTls::build(&UpstreamTlsSpec::default()).unwrap();
    let other = UpstreamTls::build(&UpstreamTlsSpec {
        server_name: Some("internal.example.com".into()),
        ..UpstreamTlsSpec::default()
    })
    .unwrap();
    assert_ne!(one.id, other.id);
    assert_eq!(one.id, UpstreamTls::build(&UpstreamTlsSpec::default()).unwrap().id);
}
