use super::request_totals;

#[test]
fn totals_count_routed_requests_and_unrouted_refusals() {
    let metrics = "\
# HELP gatehouse_requests Requests by API, version, method, status class and consumer.
# TYPE gatehouse_requests counter
gatehouse_requests_total{api=\"pets\",version=\"v1\",method=\"GET\",status_class=\"2xx\",consumer=\"alice\"} 5
gatehouse_requests_total{api=\"pets\",version=\"v1\",method=\"GET\",status_class=\"4xx\",consumer=\"\"} 2
# TYPE gatehouse_refusals counter
gatehouse_refusals_total{api=\"pets\",reason=\"credentials_missing\"} 2
gatehouse_refusals_total{api=\"\",reason=\"route_not_found\"} 3
gatehouse_snapshot_revision 7
gatehouse_rate_limit_store_failures_total 9
# EOF
";
    assert_eq!(request_totals(metrics), (10, 5));
}

#[test]
fn no_traffic_counts_zero() {
    assert_eq!(request_totals("# EOF\n"), (0, 0));
}
