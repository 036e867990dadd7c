use super::*;

fn api(versions: serde_json::Value) -> ApiSpec {
    serde_json::from_value(serde_json::json!({
        "name": "pets",
        "path_prefix": "/pets",
        "upstream": {"targets": [{"url": "http://127.0.0.1:9"}]},
        "versions": versions,
    }))
    .unwrap()
}

fn compile(api: &ApiSpec, index: usize) -> (Option<Box<Lifecycle>>, Vec<String>) {
    let mut problems = Problems::default();
    let lifecycle = Lifecycle::compile(api, &api.versions[index], "v", &mut problems);
    (lifecycle, problems.0.into_iter().map(|p| p.to_string()).collect())
}

fn headers(lifecycle: &Lifecycle) -> Vec<(String, String)> {
    let mut map = HeaderMap::new();
    lifecycle.apply(&mut map);
    map.iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn published_version_without_dates_sends_nothing() {
    let api = api(serde_json::json!([{"name": "v1", "status": "published"}]));
    assert!(compile(&api, 0).0.is_none());
}

#[test]
fn deprecated_version_sends_its_dates_and_successor_link() {
    let api = api(serde_json::json!([
        {"name": "v1", "status": "deprecated", "selector": {"kind": "path", "segment": "v1"},
         "deprecated_at": 1_767_225_600, "sunset_at": 1_782_864_000, "successor": "v2"},
        {"name": "v2", "status": "published", "selector": {"kind": "path", "segment": "v2"}},
    ]));
    let (lifecycle, problems) = compile(&api, 0);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        headers(&lifecycle.unwrap()),
        [
            ("deprecation".to_owned(), "@1767225600".to_owned()),
            ("sunset".to_owned(), "Wed, 01 Jul 2026 00:00:00 GMT".to_owned()),
            ("link".to_owned(), "</pets/v2>; rel=\"successor-version\"".to_owned()),
        ]
    );
}

#[test]
fn deprecated_version_without_a_date_is_deprecated_since_the_epoch() {
    let api = api(serde_json::json!([{"name": "v1", "status": "deprecated"}]));
    assert_eq!(
        headers(&compile(&api, 0).0.unwrap()),
        [("deprecation".to_owned(), "@0".to_owned())]
    );
}

#[test]
fn query_selected_successor_links_with_its_parameter() {
    let api = api(serde_json::json!([
        {"name": "v1", "status": "retired", "successor": "v2"},
        {"name": "v2", "status": "published", "selector": {"kind": "query", "name": "v", "value": "2"}},
    ]));
    let lifecycle = compile(&api, 0).0.unwrap();
    assert_eq!(&*lifecycle.successor().unwrap().url, "/pets?v=2");
}

#[test]
fn unknown_successor_self_successor_and_early_sunset_are_refused_by_field() {
    let api = api(serde_json::json!([
        {"name": "v1", "status": "deprecated", "successor": "v9", "deprecated_at": 100, "sunset_at": 50},
        {"name": "v2", "status": "deprecated", "successor": "v2"},
    ]));
    assert_eq!(
        compile(&api, 0).1,
        [
            "v.sunset_at: must not be before `deprecated_at`",
            "v.successor: API `pets` has no version `v9`"
        ]
    );
    assert_eq!(compile(&api, 1).1, ["v.successor: a version cannot succeed itself"]);
}
