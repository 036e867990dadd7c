use super::*;

fn check(host: Option<&str>, prefix: &str, expected: Result<&str, RouteError>) {
    let actual = RouteKey::new(host, prefix).map(|key| key.to_string());
    assert_eq!(actual, expected.map(str::to_owned), "host {host:?} prefix {prefix:?}");
}

#[test]
fn trailing_slash_and_case_claim_the_same_route() {
    check(Some("API.Example.com"), "/pets/", Ok("api.example.com/pets"));
    check(None, "/pets", Ok("*/pets"));
    check(Some(""), "/", Ok("*/"));
    check(Some("*.example.com"), "/a/b", Ok("*.example.com/a/b"));
}

#[test]
fn malformed_prefixes_are_refused() {
    check(None, "pets", Err(RouteError::PrefixNotAbsolute));
    check(None, "/a//b", Err(RouteError::PrefixMalformed));
    check(None, "/a/../b", Err(RouteError::PrefixMalformed));
    check(None, "/a?b", Err(RouteError::PrefixMalformed));
    check(None, "/a b", Err(RouteError::PrefixMalformed));
    check(
        None,
        &format!("/{}", "a".repeat(2000)),
        Err(RouteError::TooLong { max: MAX_PREFIX_LEN }),
    );
}

#[test]
fn malformed_hosts_are_refused() {
    check(Some("-bad.example"), "/", Err(RouteError::HostMalformed));
    check(Some("exa mple.com"), "/", Err(RouteError::HostMalformed));
    check(Some("a..b"), "/", Err(RouteError::HostMalformed));
    check(Some("host:8080"), "/", Err(RouteError::HostMalformed));
}
