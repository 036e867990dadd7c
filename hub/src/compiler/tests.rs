use chrono::{Duration, Utc};

use super::*;
use crate::model::api_version::ApiVersionSpec;
use crate::model::{ApiGrant, ApplicationCertificate, ClientCa, HttpMethod, RateLimit, Route, Target};

const DOCUMENT: &str = "openapi: 3.0.3\ninfo: {title: Pets, version: '1'}\npaths:\n  /pets:\n    get: {operationId: listPets}\n    post: {operationId: createPet}\n  /pets/{id}:\n    delete: {operationId: deletePet}\n";

fn state() -> HubState {
    let api = Api {
        name: "pets".into(),
        description: String::new(),
        tags: vec![],
        owner: String::new(),
        route: Route {
            host: None,
            path_prefix: "/pets".into(),
            strip_prefix: true,
        },
        upstream: Upstream {
            targets: vec![Target {
                url: "http://127.0.0.1:9000".into(),
                weight: 100,
            }],
            tls: None,
        },
        external: false,
        edge: None,
        https_redirect: false,
        authentication: Default::default(),
    };
    let version = |name: &str, status: VersionStatus| ApiVersion {
        api: "pets".into(),
        spec: ApiVersionSpec {
            name: name.into(),
            description: String::new(),
            status,
            selector: Some(Selector::Path { segment: name.into() }),
            openapi: Some(DOCUMENT.into()),
            upstream: None,
            deprecated_at: None,
            sunset_at: None,
            successor: None,
            validate_requests: false,
        },
    };
    let user = |name: &str, disabled: bool| User {
        name: name.into(),
        email: None,
        display_name: String::new(),
        role: Default::default(),
        groups: vec!["staff".into()],
        disabled,
        password_hash: None,
        identities: Vec::new(),
    };
    let key = |id: &str, application: &str, revoked: bool, expired: bool| ApiKey {
        id: id.into(),
        application: application.into(),
        name: id.into(),
        prefix: "ghk_x".into(),
        hash: format!("{:0>64}", id.len()),
        expires_at: expired.then(|| Utc::now() - Duration::hours(1)),
        revoked_at: revoked.then(Utc::now),
    };
    HubState {
        apis: vec![api],
        versions: vec![
            version("v1", VersionStatus::Published),
            version("v2", VersionStatus::Draft),
        ],
        plans: vec![Plan {
            name: "gold".into(),
            description: String::new(),
            rate_limit: RateLimit {
                requests: 10,
                window_seconds: 1,
            },
            quota: None,
            mode: Default::default(),
        }],
        policies: vec![AccessPolicy {
            name: "staff-pets".into(),
            description: String::new(),
            groups: vec!["staff".into()],
            apis: vec![ApiGrant {
                api: "pets".into(),
                versions: vec!["v1".into()],
                methods: vec![HttpMethod::Get],
                operations: vec!["listPets".into()],
            }],
            plan: "gold".into(),
            mode: Default::default(),
            replaces: Vec::new(),
            ip_allow: Vec::new(),
            ip_deny: Vec::new(),
        }],
        users: vec![user("alice", false), user("bob", true)],
        applications: vec![
            Application {
                id: "app_a".into(),
                name: "billing".into(),
                owner: "alice".into(),
                description: String::new(),
            },
            Application {
                id: "app_b".into(),
                name: "old".into(),
                owner: "bob".into(),
                description: String::new(),
            },
        ],
        keys: vec![
            key("key_1", "app_a", false, false),
            key("key_22", "app_a", true, false),
            key("key_333", "app_a", false, true),
            key("key_4444", "app_b", false, false),
        ],
        certificates: Vec::new(),
        client_certificates: vec![
            certificate("cert_1", "app_a", false, false),
            certificate("cert_22", "app_a", true, false),
            certificate("cert_333", "app_a", false, true),
            certificate("cert_4444", "app_b", false, false),
        ],
        client_cas: Vec::new(),
    }
}

/// A client certificate of `application` (its fingerprint made of its id's length), revoked or
/// expired as asked.
fn certificate(id: &str, application: &str, revoked: bool, expired: bool) -> ApplicationCertificate {
    ApplicationCertificate {
        id: id.into(),
        application: application.into(),
        name: id.into(),
        certificate_pem: String::new(),
        sha256_fingerprint: format!("{:a>64}", id.len()),
        subject: format!("CN={id}"),
        not_after: if expired {
            Utc::now() - Duration::hours(1)
        } else {
            "2100-01-01T00:00:00Z".parse().unwrap()
        },
        revoked_at: revoked.then(Utc::now),
    }
}

#[test]
fn the_state_compiles_to_what_the_gateway_enforces() {
    let snapshot = compile(&state(), Utc::now()).expect("compiles");
    let api = &snapshot.apis[0];
    assert_eq!(api.versions.len(), 1, "drafts are not served");
    let operations: Vec<&str> = api.versions[0]
        .operations
        .iter()
        .map(|operation| operation.id.as_str())
        .collect();
    assert_eq!(operations, ["listPets", "createPet", "deletePet"]);
    let keys: Vec<&str> = snapshot
        .consumers
        .iter()
        .map(|consumer| consumer.key_id.as_str())
        .collect();
    assert_eq!(
        keys,
        ["cert_1", "key_1"],
        "revoked, expired and disabled users' keys and certificates are left out"
    );
    let (certificate, key) = (&snapshot.consumers[0], &snapshot.consumers[1]);
    assert_eq!(
        certificate.certificate_sha256.as_deref(),
        Some(format!("{:a>64}", 6).as_str())
    );
    assert_eq!(certificate.key_hash, None);
    assert_eq!(
        certificate.expires_at,
        Some(4_102_444_800),
        "the certificate's not-after"
    );
    assert_eq!(
        (certificate.user.as_str(), certificate.groups.as_slice()),
        ("alice", &["staff".to_owned()][..])
    );
    assert_eq!(key.certificate_sha256, None);
    assert_eq!(certificate.application, "alice/billing");
    assert_eq!(key.application, "alice/billing");
    assert!(snapshot.tls.is_none(), "no certificates, no client CA: no tls section");
    assert_eq!(snapshot.access_rules[0].methods, ["GET"]);
}

#[test]
fn compiling_is_deterministic() {
    let now = Utc::now();
    let first = gateway::snapshot::content_hash(&compile(&state(), now).unwrap());
    let mut reordered = state();
    reordered.users.reverse();
    reordered.keys.reverse();
    assert_eq!(
        gateway::snapshot::content_hash(&compile(&reordered, now).unwrap()),
        first
    );
    let mut changed = state();
    changed.plans[0].rate_limit.requests = 11;
    assert_ne!(gateway::snapshot::content_hash(&compile(&changed, now).unwrap()), first);
}

#[test]
fn states_the_gateway_could_not_enforce_are_refused_naming_the_objects() {
    let mut draft = state();
    draft.policies[0].apis[0].versions = vec!["v2".into()];
    let problems = compile(&draft, Utc::now()).expect_err("refused");
    assert_eq!(problems[0].field, "access_policies/staff-pets/apis[0]");
    assert!(
        problems[0].message.contains("`v2`") && problems[0].message.contains("draft"),
        "{problems:?}"
    );

    let mut unknown_operation = state();
    unknown_operation.policies[0].apis[0].operations = vec!["feedPets".into()];
    let problems = compile(&unknown_operation, Utc::now()).expect_err("refused");
    assert!(problems[0].message.contains("`feedPets`"), "{problems:?}");
}

#[test]
fn client_cas_make_the_bundle_and_apis_taking_certificates_need_one() {
    let mut taking = state();
    taking.apis[0].authentication.client_certificate = true;
    // Compiled alone (as a manifest set is, which holds no CAs), it compiles.
    let snapshot = compile(&taking, Utc::now()).expect("compiles");
    assert!(snapshot.apis[0].authentication.client_certificate);
    let problems = compile_stored(&taking, Utc::now()).expect_err("refused");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "apis/pets/authentication.client_certificate");
    assert!(problems[0].message.contains("no client CA"), "{problems:?}");

    let ca = |name: &str, pem: &str| ClientCa {
        name: name.into(),
        description: String::new(),
        ca_pem: pem.into(),
    };
    let (one, two) = (ca_pem("One CA"), ca_pem("Two CA"));
    taking.client_cas = vec![ca("one", &format!("{one}\n\n")), ca("two", &two)];
    let snapshot = compile_stored(&taking, Utc::now()).expect("compiles");
    let tls = snapshot.tls.expect("a tls section");
    assert!(tls.certificates.is_empty());
    assert_eq!(
        tls.client_ca_pem.as_deref(),
        Some(format!("{}\n{}\n", one.trim_end(), two.trim_end()).as_str())
    );
}

fn ca_pem(name: &str) -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().pem()
}
