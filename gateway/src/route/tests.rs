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

fn table(routes: &[(Option<&str>, &str)]) -> RouteTable {
    let mut table = RouteTable::default();
    for (index, (host, prefix)) in routes.iter().enumerate() {
        table.insert(&RouteKey::new(*host, prefix).unwrap(), index).unwrap();
    }
    table
}

fn find(table: &RouteTable, host: &str, path: &str) -> Option<(usize, usize)> {
    table.find(host, path).map(|found| (found.api, found.prefix_len))
}

#[test]
fn the_longest_prefix_on_a_segment_boundary_wins() {
    let routes = table(&[(None, "/"), (None, "/pets"), (None, "/pets/admin")]);
    assert_eq!(find(&routes, "any", "/pets"), Some((1, 5)));
    assert_eq!(find(&routes, "any", "/pets/"), Some((1, 5)));
    assert_eq!(find(&routes, "any", "/pets/12"), Some((1, 5)));
    assert_eq!(find(&routes, "any", "/pets/admin/x"), Some((2, 11)));
    assert_eq!(find(&routes, "any", "/petshop"), Some((0, 0)));
    assert_eq!(find(&routes, "any", "/"), Some((0, 0)));
    let no_root = table(&[(None, "/pets")]);
    assert_eq!(find(&no_root, "any", "/petshop"), None);
    assert_eq!(find(&no_root, "any", "/"), None);
}

#[test]
fn hosts_pick_their_table_first() {
    let routes = table(&[
        (None, "/"),
        (Some("api.example.com"), "/v"),
        (Some("*.example.com"), "/"),
    ]);
    assert_eq!(find(&routes, "api.example.com", "/v/1"), Some((1, 2)));
    assert_eq!(
        find(&routes, "api.example.com", "/other"),
        Some((2, 0)),
        "exact host misses, wildcard matches"
    );
    assert_eq!(find(&routes, "eu.example.com", "/x"), Some((2, 0)));
    assert_eq!(find(&routes, "example.org", "/x"), Some((0, 0)));
}

#[test]
fn a_route_cannot_be_claimed_twice() {
    let mut routes = table(&[(Some("a.example"), "/pets")]);
    assert_eq!(
        routes.insert(&RouteKey::new(Some("A.example"), "/pets/").unwrap(), 7),
        Err(0)
    );
    assert_eq!(routes.insert(&RouteKey::new(None, "/pets").unwrap(), 7), Ok(()));
}
