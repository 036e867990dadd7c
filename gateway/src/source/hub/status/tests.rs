use super::request_totals;

#[test]
fn totals_count_every_request_and_the_refused() {
    let metrics = "\
# HELP http_server_request_duration_seconds Duration of HTTP server requests.
# TYPE http_server_request_duration_seconds histogram
# UNIT http_server_request_duration_seconds seconds
http_server_request_duration_seconds_sum{http_request_method=\"GET\",http_response_status_code=\"200\",gatehouse_api=\"pets\",gatehouse_refusal=\"\"} 0.5
http_server_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\",gatehouse_api=\"pets\",gatehouse_refusal=\"\"} 5
http_server_request_duration_seconds_bucket{le=\"0.0005\",http_request_method=\"GET\",http_response_status_code=\"200\",gatehouse_api=\"pets\",gatehouse_refusal=\"\"} 5
http_server_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"401\",gatehouse_api=\"pets\",gatehouse_refusal=\"credentials_missing\"} 2
http_server_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"404\",gatehouse_api=\"\",gatehouse_refusal=\"route_not_found\"} 3
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
