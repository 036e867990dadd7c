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

#[test]
fn a_valid_traceparent_is_continued_and_a_malformed_one_is_not() {
    let check = |traceparent: &str, expected: Option<(&str, &str, bool)>| {
        let mut headers = http::HeaderMap::new();
        headers.insert(TRACEPARENT, HeaderValue::from_str(traceparent).unwrap());
        let found = client_span_context(&headers).map(|span_context| {
            (
                span_context.trace_id().to_string(),
                span_context.span_id().to_string(),
                span_context.is_sampled(),
            )
        });
        let expected = expected.map(|(trace_id, span_id, sampled)| (trace_id.to_owned(), span_id.to_owned(), sampled));
        assert_eq!(found, expected, "{traceparent}");
    };
    let (trace_id, span_id) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    check(&format!("00-{trace_id}-{span_id}-01"), Some((trace_id, span_id, true)));
    check(&format!("00-{trace_id}-{span_id}-00"), Some((trace_id, span_id, false)));
    check(&format!("00-{trace_id}-{span_id}-03"), Some((trace_id, span_id, true)));
    check(&format!("01-{trace_id}-{span_id}-01"), Some((trace_id, span_id, true)));
    check(
        &format!("01-{trace_id}-{span_id}-01-later-field"),
        Some((trace_id, span_id, true)),
    );
    for malformed in [
        format!("00-{trace_id}-{span_id}-01-extra"),
        format!("01-{trace_id}-{span_id}-01extra"),
        format!("ff-{trace_id}-{span_id}-01"),
        format!("00-{}-{span_id}-01", trace_id.to_uppercase()),
        format!("00-{}-{span_id}-01", "0".repeat(32)),
        format!("00-{trace_id}-{}-01", "0".repeat(16)),
        format!("00-{trace_id}-{span_id}-0g"),
        format!("00-{trace_id}-{span_id}"),
        format!("00_{trace_id}_{span_id}_01"),
        String::new(),
    ] {
        check(&malformed, None);
    }
}

#[test]
fn tracestate_comes_with_a_continued_trace() {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        TRACEPARENT,
        HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    );
    headers.insert(
        TRACESTATE,
        HeaderValue::from_static("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
    );
    let span_context = client_span_context(&headers).unwrap();
    assert!(span_context.is_remote());
    assert_eq!(span_context.trace_state().get("congo"), Some("t61rcWkgMzE"));
}
