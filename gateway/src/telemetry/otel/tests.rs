use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

use super::*;

#[test]
fn traceparent_names_the_span_as_parent() {
    let span_context = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    assert_eq!(
        traceparent(&span_context),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
}

#[test]
fn methods_outside_the_conventions_have_no_name() {
    assert_eq!(method_name(&Method::GET), Some("GET"));
    assert_eq!(method_name(&Method::from_bytes(b"PURGE").unwrap()), None);
}

#[test]
fn endpoint_must_be_an_http_url() {
    let settings = OtlpSettings::new("http://127.0.0.1:4318/").unwrap();
    assert_eq!(settings.endpoint, "http://127.0.0.1:4318", "the trailing slash goes");
    assert!(OtlpSettings::new("https://collector.internal").is_ok());
    for wrong in ["", "127.0.0.1:4318", "ftp://collector", "http://", "not a url"] {
        assert!(OtlpSettings::new(wrong).is_err(), "{wrong:?} is refused");
    }
}

#[test]
fn server_address_comes_from_the_authority_or_host() {
    let mut headers = http::HeaderMap::new();
    headers.insert(header::HOST, HeaderValue::from_static("api.example:8443"));
    let authority = server_authority(&Uri::from_static("/pets"), &headers).unwrap();
    assert_eq!((authority.host(), authority.port_u16()), ("api.example", Some(8443)));
    let authority = server_authority(&Uri::from_static("http://other.example/pets"), &headers).unwrap();
    assert_eq!((authority.host(), authority.port_u16()), ("other.example", None));
}
