use super::*;

fn check(error: HubError, expected: StatusCode) {
    let problem = ApiError::Hub(error).problem();
    assert_eq!(problem.status, expected.as_u16(), "{problem:?}");
}

#[test]
fn each_hub_error_has_its_status() {
    check(HubError::invalid("name", "bad"), StatusCode::UNPROCESSABLE_ENTITY);
    check(
        HubError::NotFound {
            kind: "API",
            key: "x".into(),
        },
        StatusCode::NOT_FOUND,
    );
    check(HubError::Conflict { detail: "taken".into() }, StatusCode::CONFLICT);
    check(
        HubError::Unauthenticated { detail: "who".into() },
        StatusCode::UNAUTHORIZED,
    );
    check(HubError::Forbidden { detail: "no".into() }, StatusCode::FORBIDDEN);
    check(
        HubError::Store(crate::store::StoreError::Corrupt("x".into())),
        StatusCode::INTERNAL_SERVER_ERROR,
    );
}

#[test]
fn internal_causes_are_not_sent() {
    let problem = ApiError::Hub(HubError::Store(crate::store::StoreError::Corrupt(
        "secret detail".into(),
    )))
    .problem();
    assert!(!problem.detail.contains("secret detail"));
}

#[test]
fn validation_problems_list_every_field() {
    let error = HubError::Invalid(vec![
        FieldError::new("name", "bad"),
        FieldError::new("route.host", "worse"),
    ]);
    let problem = ApiError::Hub(error).problem();
    let fields: Vec<&str> = problem.errors.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(fields, ["name", "route.host"]);
    assert_eq!(problem.detail, "name: bad; route.host: worse");
}
