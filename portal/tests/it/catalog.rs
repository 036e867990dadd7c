//! The catalog and API pages: exactly what the access policies grant, with the plan and each
//! operation marked allowed or not by the gateway's own rule.

use hub::store::scratch::ScratchStore;

use crate::support::{Portal, on_both_stores};

fn listed(html: &str) -> Vec<String> {
    html.split("<h2><a href=\"/apis/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

async fn each_user_sees_exactly_their_apis(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let (_, sam) = portal.signed_in("sam").await.page("/apis").await;
    assert_eq!(listed(&sam), ["orders", "petstore"]);
    assert!(
        sam.contains("Plan: 2,000 requests per 65 s, 100,000 per month"),
        "{sam}"
    );
    let (_, ada) = portal.signed_in("ada").await.page("/apis").await;
    assert_eq!(
        listed(&ada),
        ["orders", "petstore", "weather"],
        "an admin sees every API"
    );
    let (_, nora) = portal.signed_in("nora").await.page("/apis").await;
    assert!(listed(&nora).is_empty());
    assert!(nora.contains("You are in no group yet"), "{nora}");
}

async fn search_filters_by_name_tag_and_description(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let sam = portal.signed_in("sam").await;
    assert_eq!(listed(&sam.page("/apis?q=ORD").await.1), ["orders"]);
    assert_eq!(listed(&sam.page("/apis?q=seeded").await.1), ["orders", "petstore"]);
    assert_eq!(listed(&sam.page("/apis?q=petstore+API").await.1), ["petstore"]);
    let none = sam.page("/apis?q=weather").await.1;
    assert!(listed(&none).is_empty(), "a search does not reveal what is not granted");
    assert!(none.contains("No API you may use matches"));
}

async fn the_api_page_marks_operations_the_policy_does_not_allow(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let (status, html) = portal.signed_in("sam").await.page("/apis/petstore").await;
    assert_eq!(status, 200);
    let get = html.find("listPets").unwrap();
    let delete = html.find("deletePet").unwrap();
    let allowed_at = html.find("Allowed for you").unwrap();
    let denied_at = html
        .find("Not allowed for you: your groups may not use this method here")
        .unwrap();
    assert!(
        allowed_at < get && denied_at > get && denied_at < delete,
        "GET allowed, DELETE not"
    );
    assert!(html.contains("v1"));
}

on_both_stores!(
    the_api_page_counts_the_users_calls_from_the_usage_summaries,
    each_user_sees_exactly_their_apis,
    search_filters_by_name_tag_and_description,
    the_api_page_marks_operations_the_policy_does_not_allow,
);

async fn the_api_page_counts_the_users_calls_from_the_usage_summaries(scratch: ScratchStore) {
    use hub::domain::usage::{UsageReport, UsageSummary, ingest};
    let portal = Portal::start(scratch).await;
    let sam = portal.signed_in("sam").await;
    let (_, before) = sam.page("/apis/petstore").await;
    assert!(!before.contains("your-calls"), "no calls yet, so no line");
    let now = chrono::Utc::now();
    let minute = chrono::DurationRound::duration_trunc(now, chrono::Duration::minutes(1)).unwrap();
    let summary = |user: &str, api: &str, status_class: &str, requests: u64| UsageSummary {
        minute,
        api: api.into(),
        version: Some("v1".into()),
        user: Some(user.into()),
        application: None,
        key: None,
        status_class: status_class.into(),
        requests,
        latency_ms_buckets: {
            let mut buckets = vec![0; 14];
            buckets[2] = requests;
            buckets
        },
    };
    let report = UsageReport {
        instance: "test-1".into(),
        shadow_refusals: Vec::new(),
        summaries: vec![
            summary("sam", "petstore", "2xx", 1200),
            summary("sam", "petstore", "4xx", 4),
            summary("ada", "petstore", "2xx", 99),
            summary("sam", "orders", "2xx", 7),
        ],
    };
    ingest(portal.store(), "edge", report, now).await.unwrap();
    let (_, after) = sam.page("/apis/petstore").await;
    let line = after
        .split(r#"id="your-calls">"#)
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert_eq!(line, "1,204 calls in the last 24 hours, 4 refused or failed");
}
