use super::*;

#[test]
fn durations_take_seconds_minutes_and_hours() {
    assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
    assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
    for bad in ["", "0", "1.5s", "5d", "s", "-3"] {
        assert!(parse_duration(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn rates_are_bounded() {
    assert_eq!(parse_rate("2.5"), Ok(2.5));
    for bad in ["0", "-1", "fast", "NaN", "inf", "5000"] {
        assert!(parse_rate(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn gateway_urls_are_http_bases() {
    assert_eq!(
        parse_http_url("http://127.0.0.1:8000/").as_deref(),
        Ok("http://127.0.0.1:8000")
    );
    for bad in ["127.0.0.1:8000", "ftp://host", "http://", "http://host/?a=1"] {
        assert!(parse_http_url(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn keys_are_user_equals_key() {
    assert_eq!(parse_user_key("sam=ghk_x"), Ok(("sam".into(), "ghk_x".into())));
    for bad in ["sam", "=ghk_x", "sam="] {
        assert!(parse_user_key(bad).is_err(), "{bad:?}");
    }
}
