use std::net::IpAddr;

use http::HeaderMap;

use super::cidr::{Cidr, CidrSet, client_address};
use super::rewrite::PathRewrite;
use crate::compiled::Problems;
use crate::pipeline::Routed;
use crate::snapshot::PathRewriteSpec;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn cidrs_match_their_networks_only() {
    let check = |cidr: &str, address: &str, expected: bool| {
        assert_eq!(
            Cidr::parse(cidr).unwrap().contains(ip(address)),
            expected,
            "{cidr} {address}"
        );
    };
    check("10.0.0.0/8", "10.255.1.2", true);
    check("10.0.0.0/8", "11.0.0.1", false);
    check("0.0.0.0/0", "192.0.2.1", true);
    check("0.0.0.0/0", "2001:db8::1", false);
    check("192.0.2.7", "192.0.2.7", true);
    check("192.0.2.7", "192.0.2.8", false);
    check("2001:db8::/32", "2001:db8:ffff::1", true);
    check("2001:db8::/32", "2001:db9::1", false);
    // IPv4-mapped IPv6 (a dual-stack listener's view of an IPv4 client) is IPv4.
    check("127.0.0.0/8", "::ffff:127.0.0.1", true);
    check("::/0", "127.0.0.1", false);
    for bad in [
        "10.0.0.1/8",
        "10.0.0.0/33",
        "10.0.0.0/+8",
        "10.0.0.0/",
        "300.0.0.0/8",
        "fe80::/129",
        "x",
    ] {
        assert!(Cidr::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_client_is_the_right_most_untrusted_hop() {
    let (trusted, _) = CidrSet::parse(&["127.0.0.1".into(), "192.0.2.0/24".into()]);
    let with = |forwarded: &[&str]| {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    };
    let peer = ip("127.0.0.1");
    let client = |forwarded: &[&str]| client_address(peer, &with(forwarded), &trusted);
    assert_eq!(client(&[]), Some(peer));
    assert_eq!(client(&["203.0.113.7"]), Some(ip("203.0.113.7")));
    assert_eq!(client(&["203.0.113.7, 198.51.100.1"]), Some(ip("198.51.100.1")));
    assert_eq!(
        client(&["203.0.113.7", "198.51.100.1, 192.0.2.9"]),
        Some(ip("198.51.100.1"))
    );
    assert_eq!(client(&["[2001:db8::1]:443"]), Some(ip("2001:db8::1")));
    assert_eq!(
        client(&["192.0.2.3"]),
        Some(ip("192.0.2.3")),
        "only proxies: the left-most"
    );
    assert_eq!(client(&["junk, 192.0.2.3"]), None);
    // A peer that is not a trusted proxy is the client, whatever it says.
    let untrusted = client_address(ip("198.51.100.2"), &with(&["203.0.113.7"]), &trusted);
    assert_eq!(untrusted, Some(ip("198.51.100.2")));
}

#[test]
fn rewrites_build_the_upstream_path() {
    let routed = Routed {
        api: 0,
        version: None,
        prefix_len: 4,
        segment_len: 0,
    };
    let check = |spec: PathRewriteSpec, strip: bool, uri: &str, base: &str, expected: &str| {
        let mut problems = Problems::default();
        let rewrite = PathRewrite::compile(&spec, "edge.path_rewrite", &mut problems).unwrap();
        let uri: http::Uri = uri.parse().unwrap();
        assert_eq!(rewrite.upstream_uri(strip, &routed, &uri, base).to_string(), expected);
    };
    let template = |template: &str| PathRewriteSpec::Template {
        template: template.into(),
    };
    let prefix = |from: &str, to: &str| PathRewriteSpec::Prefix {
        from: from.into(),
        to: to.into(),
    };
    check(template("/v2/{rest}"), false, "/api/a/b?x=1", "", "/v2/a/b?x=1");
    check(template("/v2/{rest}"), false, "/api", "", "/v2/");
    check(template("/fixed"), false, "/api/a", "/base", "/base/fixed");
    check(template("/v2{rest}.json"), true, "/api/a", "", "/v2/a.json");
    check(prefix("/old/", "/new"), true, "/api/old/a", "", "/new/a");
    check(prefix("/", "/root"), true, "/api/a", "", "/root/a");
    check(prefix("/api", "/"), false, "/api/a", "", "/a");
    check(prefix("/api", "/"), false, "/api", "", "/");
    let mut problems = Problems::default();
    assert!(PathRewrite::compile(&template("/{rest}/{rest}"), "f", &mut problems).is_none());
    assert!(PathRewrite::compile(&prefix("old", "/x/../y"), "f", &mut problems).is_none());
    assert_eq!(problems.0.len(), 3);
}

#[test]
fn cidrs_print_as_written_and_know_which_networks_they_cover() {
    for text in [
        "10.0.0.0/8",
        "192.0.2.7",
        "0.0.0.0/0",
        "2001:db8::/32",
        "2001:db8::1",
        "::/0",
    ] {
        assert_eq!(Cidr::parse(text).unwrap().to_string(), text);
    }
    let covers = |outer: &str, inner: &str| Cidr::parse(outer).unwrap().covers(&Cidr::parse(inner).unwrap());
    assert!(covers("10.0.0.0/8", "10.9.0.0/16"));
    assert!(covers("10.0.0.0/8", "10.0.0.0/8"));
    assert!(covers("0.0.0.0/0", "192.0.2.7"));
    assert!(!covers("10.9.0.0/16", "10.0.0.0/8"));
    assert!(!covers("10.0.0.0/8", "11.0.0.0/8"));
    assert!(!covers("::/0", "10.0.0.0/8"), "IPv6 networks never cover IPv4 ones");
}

#[test]
fn ip_lists_say_which_list_refuses() {
    use super::cidr::{IpList, IpLists};
    let set = |entries: &[&str]| CidrSet::parse(&entries.iter().map(|entry| entry.to_string()).collect::<Vec<_>>()).0;
    let lists = IpLists {
        allow: set(&[
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.2.0.0/16",
            "10.3.0.0/16",
            "10.4.0.0/16",
            "10.5.0.0/16",
        ]),
        deny: set(&["10.9.0.0/16"]),
    };
    assert_eq!(lists.refusing(Some(ip("10.1.1.1"))), None);
    assert_eq!(lists.refusing(Some(ip("10.9.1.1"))), Some(IpList::Deny));
    assert_eq!(lists.refusing(Some(ip("11.0.0.1"))), Some(IpList::Allow));
    assert_eq!(lists.refusing(None), Some(IpList::Allow));
    assert_eq!(
        lists.describe(IpList::Allow),
        "10.0.0.0/8, 10.1.0.0/16, 10.2.0.0/16, 10.3.0.0/16 and 2 more"
    );
}
