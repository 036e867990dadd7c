//! The linter over manifest sets written here: each class of problem is found at the line that
//! causes it, with its rule id and severity; a clean set lints clean; and the three outputs.

use hub::lint::output::{self, Format};
use hub::lint::{Finding, Severity, fails, lint};
use hub::manifest::load::{ManifestSet, SourceFile, parse};
use serde_json::Value;

/// A set with an API of two versions (one document inline, one in its own file), two groups, a
/// plan and a policy, each valid and in use.
fn clean() -> Vec<(&'static str, String)> {
    vec![
        (
            "apis/pets.yaml",
            "\
kind: Api
name: pets
spec:
  description: Pets for sale
  route: { path_prefix: /pets }
  upstream: { targets: [ { url: 'http://127.0.0.1:9000' } ] }
  versions:
    - name: v1
      status: deprecated
      selector: { kind: path, segment: v1 }
      openapi_file: pets/v1.yaml
    - name: v2
      status: published
      selector: { kind: path, segment: v2 }
      openapi: |
        openapi: 3.0.3
        info: { title: Pets, version: '2' }
        paths:
          /pets:
            get: { operationId: listPets }
            post: { operationId: createPet }
"
            .into(),
        ),
        (
            "apis/pets/v1.yaml",
            "\
openapi: 3.0.3
info: { title: Pets, version: '1' }
paths:
  /pets:
    get: { operationId: listPets }
"
            .into(),
        ),
        (
            "access.yaml",
            "\
kind: Group
name: support
spec: { display_name: Support }
---
kind: Group
name: partners
spec: {}
---
kind: Plan
name: gold
spec:
  rate_limit: { requests: 100, window_seconds: 60 }
  quota: { requests: 100000, period: day }
---
kind: AccessPolicy
name: partners-pets
spec:
  groups: [partners, support]
  apis:
    - api: pets
      versions: [v1, v2]
      methods: [GET, POST]
      operations: [listPets]
  plan: gold
"
            .into(),
        ),
    ]
}

/// The clean set with `path`'s text replaced, or added.
fn with(mut files: Vec<(&'static str, String)>, path: &'static str, text: &str) -> Vec<(&'static str, String)> {
    files.retain(|(existing, _)| *existing != path);
    files.push((path, text.to_owned()));
    files
}

/// The clean set with `from` replaced by `to` in `path` (which must contain it).
fn edited(path: &str, from: &str, to: &str) -> Vec<(&'static str, String)> {
    let mut files = clean();
    let (_, text) = files.iter_mut().find(|(existing, _)| *existing == path).unwrap();
    assert!(text.contains(from), "{path} contains {from:?}");
    *text = text.replacen(from, to, 1);
    files
}

fn read(files: &[(&'static str, String)]) -> (ManifestSet, Vec<hub::manifest::Problem>) {
    parse(
        files
            .iter()
            .map(|(path, text)| SourceFile {
                path: (*path).into(),
                text: text.clone(),
            })
            .collect(),
    )
}

fn run(files: &[(&'static str, String)]) -> Vec<Finding> {
    let (set, problems) = read(files);
    lint(&set, problems)
}

/// The 1-based line and column where `needle` first occurs in `path`.
fn place_of(files: &[(&'static str, String)], path: &str, needle: &str) -> (usize, usize) {
    let (_, text) = files.iter().find(|(existing, _)| *existing == path).unwrap();
    for (number, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            return (number + 1, line[..byte].chars().count() + 1);
        }
    }
    panic!("{needle:?} is not in {path}");
}

/// Asserts a finding of `rule` and `severity` on the line of `needle` in `path`, and returns it.
fn expect(
    findings: &[Finding],
    files: &[(&'static str, String)],
    rule: &str,
    severity: Severity,
    path: &str,
    needle: &str,
) -> Finding {
    let (line, _) = place_of(files, path, needle);
    let found = findings
        .iter()
        .find(|finding| finding.rule == rule && finding.location.file == path && finding.location.line == line)
        .unwrap_or_else(|| panic!("{rule} at {path}:{line} ({needle:?}) in {findings:#?}"));
    assert_eq!(found.severity, severity, "{found:?}");
    assert!(!found.hint.is_empty(), "{found:?}");
    found.clone()
}

/// Asserts that `rule` is found exactly once.
fn once(findings: &[Finding], rule: &str) {
    let count = findings.iter().filter(|finding| finding.rule == rule).count();
    assert_eq!(count, 1, "{rule} once in {findings:#?}");
}

#[test]
fn a_clean_set_lints_clean_and_compiles() {
    let files = clean();
    let (set, problems) = read(&files);
    let findings = lint(&set, problems);
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(!fails(&findings, true));
    let (state, _) = hub::manifest::state::build(&set);
    let compiled = hub::compiler::compile(&state.hub_state(), chrono::Utc::now());
    assert!(compiled.is_ok(), "what lints clean publishes: {compiled:?}");
    let text = output::text(&findings, &set, "manifests");
    assert!(text.contains("no problems found"), "{text}");
}

#[test]
fn reading_and_model_problems_are_found_at_their_line() {
    let files = with(
        with(
            edited("apis/pets.yaml", "path_prefix: /pets", "path_prefix: pets"),
            "broken.yaml",
            "kind: Group\nname: [oops\n",
        ),
        "more.yaml",
        "\
kind: Gizmo
name: thing
spec: {}
---
kind: Plan
name: silver
spec:
  rate_limit: { requests: lots, window_seconds: 60 }
---
kind: Group
name: staff
spec:
  colour: blue
---
kind: Api
name: orders
spec:
  route: { path_prefix: /orders }
  upstream: { targets: [ { url: 'http://127.0.0.1:9001' } ] }
  versions:
    - name: v1
      openapi_file: orders/v1.yaml
",
    );
    let findings = run(&files);
    // The reader finds the unclosed list at the end of the file: that is its last line.
    expect(
        &findings,
        &files,
        "yaml-syntax",
        Severity::Error,
        "broken.yaml",
        "[oops",
    );
    let kind = expect(&findings, &files, "schema", Severity::Error, "more.yaml", "Gizmo");
    assert!(kind.message.contains("Gizmo"), "{kind:?}");
    expect(&findings, &files, "schema", Severity::Error, "more.yaml", "lots");
    let unknown_field = expect(&findings, &files, "schema", Severity::Error, "more.yaml", "colour");
    assert!(unknown_field.message.contains("colour"), "{unknown_field:?}");
    let prefix = expect(
        &findings,
        &files,
        "invalid-value",
        Severity::Error,
        "apis/pets.yaml",
        "path_prefix",
    );
    assert!(prefix.message.contains("path_prefix"), "{prefix:?}");
    expect(
        &findings,
        &files,
        "missing-file",
        Severity::Error,
        "more.yaml",
        "orders/v1.yaml",
    );
    assert!(fails(&findings, false));
}

#[test]
fn duplicate_names_are_found_at_the_second_name() {
    let files = with(
        edited("apis/pets.yaml", "    - name: v2", "    - name: v1"),
        "again.yaml",
        "kind: Plan\nname: gold\nspec:\n  rate_limit: { requests: 5, window_seconds: 1 }\n",
    );
    let findings = run(&files);
    expect(
        &findings,
        &files,
        "duplicate-name",
        Severity::Error,
        "again.yaml",
        "name: gold",
    );
    let (_, text) = files.iter().find(|(path, _)| *path == "apis/pets.yaml").unwrap();
    let line = text.lines().position(|line| line == "    - name: v1").unwrap() + 1;
    let later = text
        .lines()
        .skip(line)
        .position(|line| line == "    - name: v1")
        .unwrap()
        + line
        + 1;
    assert!(
        findings.iter().any(|finding| finding.rule == "duplicate-name"
            && finding.location.file == "apis/pets.yaml"
            && finding.location.line == later),
        "the second `v1`: {findings:#?}"
    );
}

#[test]
fn unknown_references_are_found_at_the_reference() {
    let files = edited(
        "access.yaml",
        "  groups: [partners, support]\n  apis:\n    - api: pets\n      versions: [v1, v2]",
        "  groups: [partners, suport]\n  apis:\n    - api: pets\n      versions: [v1, v9]\n    - api: petz",
    );
    let files = {
        let mut files = files;
        let (_, text) = files.iter_mut().find(|(path, _)| *path == "access.yaml").unwrap();
        *text = text.replace("  plan: gold\n", "  plan: platinum\n");
        files
    };
    let findings = run(&files);
    let group = expect(
        &findings,
        &files,
        "unknown-reference",
        Severity::Error,
        "access.yaml",
        "suport",
    );
    assert_eq!(group.location.column, place_of(&files, "access.yaml", "suport").1);
    assert!(
        group.hint.contains("`support`"),
        "the nearest name is suggested: {group:?}"
    );
    let version = expect(
        &findings,
        &files,
        "unknown-reference",
        Severity::Error,
        "access.yaml",
        "v9",
    );
    assert_eq!(version.location.column, place_of(&files, "access.yaml", "v9").1);
    assert!(
        version.message.contains("`v9`") && version.message.contains("`pets`"),
        "{version:?}"
    );
    expect(
        &findings,
        &files,
        "unknown-reference",
        Severity::Error,
        "access.yaml",
        "petz",
    );
    expect(
        &findings,
        &files,
        "unknown-reference",
        Severity::Error,
        "access.yaml",
        "platinum",
    );
    assert_eq!(
        findings
            .iter()
            .filter(|finding| finding.rule == "unknown-reference")
            .count(),
        4,
        "{findings:#?}"
    );
}

#[test]
fn routes_that_collide_or_shadow_a_version_are_found() {
    let api = |name: &str, prefix: &str| {
        format!(
            "kind: Api\nname: {name}\nspec:\n  route:\n    path_prefix: {prefix}\n  upstream: {{ targets: [ {{ url: 'http://127.0.0.1:9002' }} ] }}\n"
        )
    };
    let files = with(
        with(
            with(clean(), "same.yaml", &api("pets-again", "/pets/")),
            "shadow.yaml",
            &api("pets-two", "/pets/v2"),
        ),
        // Nested under /pets, but takes no version's whole path: fine.
        "nested.yaml",
        &api("pets-admin", "/pets/admin"),
    );
    let files = {
        let mut files = files;
        let (_, text) = files.iter_mut().find(|(path, _)| *path == "access.yaml").unwrap();
        text.push_str("    - api: pets-again\n    - api: pets-two\n    - api: pets-admin\n");
        let moved = text.replace("  plan: gold\n", "");
        *text = format!("{moved}  plan: gold\n");
        files
    };
    let findings = run(&files);
    let collision = expect(
        &findings,
        &files,
        "route-collision",
        Severity::Error,
        "same.yaml",
        "/pets/",
    );
    assert!(
        collision.message.contains("`pets`") && collision.message.contains("normalised"),
        "{collision:?}"
    );
    let shadowed = expect(
        &findings,
        &files,
        "route-shadowed",
        Severity::Error,
        "apis/pets.yaml",
        "segment: v2",
    );
    assert!(shadowed.message.contains("`pets-two`"), "{shadowed:?}");
    once(&findings, "route-collision");
    once(&findings, "route-shadowed");
    assert!(
        findings.iter().all(|finding| finding.location.file != "nested.yaml"),
        "{findings:#?}"
    );
}

#[test]
fn openapi_documents_that_do_not_parse_are_found_at_the_parsers_line() {
    let files = with(
        edited(
            "apis/pets.yaml",
            "            post: { operationId: createPet }",
            "            post: [oops",
        ),
        "apis/pets/v1.yaml",
        "openapi: 3.0.3\ninfo: { title: Pets, version: '1' }\npaths:\n  /pets:\n    get: { operationId: [listPets }\n",
    );
    let findings = run(&files);
    let inline = expect(
        &findings,
        &files,
        "openapi-invalid",
        Severity::Error,
        "apis/pets.yaml",
        "post: [oops",
    );
    assert!(
        inline.message.contains("v2") && inline.message.contains("YAML"),
        "{inline:?}"
    );
    let in_file = expect(
        &findings,
        &files,
        "openapi-invalid",
        Severity::Error,
        "apis/pets/v1.yaml",
        "get:",
    );
    assert!(in_file.message.contains("v1"), "{in_file:?}");

    // A document that parses but is no OpenAPI 3 document is found at what names it.
    let files = with(clean(), "apis/pets/v1.yaml", "swagger: '2.0'\ninfo: { title: Pets }\n");
    let findings = run(&files);
    let not_openapi = expect(
        &findings,
        &files,
        "openapi-invalid",
        Severity::Error,
        "apis/pets.yaml",
        "openapi_file: pets/v1.yaml",
    );
    assert!(not_openapi.message.contains("OpenAPI 3"), "{not_openapi:?}");
    once(&findings, "openapi-invalid");
}

#[test]
fn grants_of_what_the_openapi_document_lacks_are_found() {
    let files = edited(
        "access.yaml",
        "      methods: [GET, POST]\n      operations: [listPets]",
        "      methods: [GET, HEAD, DELETE]\n      operations: [listPets, listPet]",
    );
    let findings = run(&files);
    let method = expect(
        &findings,
        &files,
        "grant-unknown-method",
        Severity::Warning,
        "access.yaml",
        "DELETE",
    );
    assert_eq!(method.location.column, place_of(&files, "access.yaml", "DELETE").1);
    let operation = expect(
        &findings,
        &files,
        "grant-unknown-operation",
        Severity::Error,
        "access.yaml",
        "listPet]",
    );
    assert_eq!(operation.location.column, place_of(&files, "access.yaml", "listPet]").1);
    assert!(operation.hint.contains("`listPets`"), "{operation:?}");
    once(&findings, "grant-unknown-method");
    once(&findings, "grant-unknown-operation");

    // A method is not judged when a granted version has no document to judge it by.
    let files = edited("apis/pets.yaml", "      openapi_file: pets/v1.yaml\n", "");
    let files = {
        let mut files = files;
        let (_, text) = files.iter_mut().find(|(path, _)| *path == "access.yaml").unwrap();
        *text = text.replace("methods: [GET, POST]", "methods: [DELETE]");
        files
    };
    let findings = run(&files);
    assert!(
        findings.iter().all(|finding| finding.rule != "grant-unknown-method"),
        "{findings:#?}"
    );
}

#[test]
fn a_grant_of_a_draft_version_is_found() {
    let files = edited("apis/pets.yaml", "status: deprecated", "status: draft");
    let findings = run(&files);
    let found = expect(
        &findings,
        &files,
        "grant-unserved-version",
        Severity::Error,
        "access.yaml",
        "versions: [v1",
    );
    assert!(found.message.contains("draft"), "{found:?}");
}

#[test]
fn a_quota_below_one_window_of_the_rate_limit_is_found() {
    let files = edited("access.yaml", "quota: { requests: 100000", "quota: { requests: 50");
    let findings = run(&files);
    let found = expect(
        &findings,
        &files,
        "quota-below-rate",
        Severity::Warning,
        "access.yaml",
        "quota:",
    );
    assert_eq!(found.location.column, place_of(&files, "access.yaml", "50").1);
    assert!(!fails(&findings, false) && fails(&findings, true));
}

#[test]
fn ip_lists_that_admit_no_one_or_deny_outside_the_allow_list_are_found() {
    let files = edited(
        "access.yaml",
        "  plan: gold\n",
        "  plan: gold\n  ip_allow: [10.1.0.0/16, 10.2.0.0/16]\n  ip_deny: [10.0.0.0/8]\n",
    );
    let findings = run(&files);
    let found = expect(
        &findings,
        &files,
        "ip-allow-all-denied",
        Severity::Error,
        "access.yaml",
        "ip_allow:",
    );
    assert!(found.message.contains("access policy `partners-pets`"), "{found:?}");
    once(&findings, "ip-allow-all-denied");

    let files = edited(
        "access.yaml",
        "  plan: gold\n",
        "  plan: gold\n  ip_allow: [10.0.0.0/8, '2001:db8::/32']\n  ip_deny:\n    - 10.9.0.0/16\n    - 192.168.0.0/16\n",
    );
    let findings = run(&files);
    let found = expect(
        &findings,
        &files,
        "ip-deny-outside-allow",
        Severity::Warning,
        "access.yaml",
        "- 192.168.0.0/16",
    );
    assert!(found.message.contains("`192.168.0.0/16`"), "{found:?}");
    once(&findings, "ip-deny-outside-allow");

    // The same rules read an API's edge lists; a bad entry is a value problem, not these rules'.
    let files = edited(
        "apis/pets.yaml",
        "  route: { path_prefix: /pets }\n",
        "  route: { path_prefix: /pets }\n  edge: { ip_allow: [203.0.113.0/24, 10.0.0.0/33], ip_deny: [203.0.113.0/24] }\n",
    );
    let findings = run(&files);
    let found = expect(
        &findings,
        &files,
        "ip-allow-all-denied",
        Severity::Error,
        "apis/pets.yaml",
        "edge:",
    );
    assert!(found.message.contains("API `pets`"), "{found:?}");
    assert!(
        findings
            .iter()
            .any(|finding| finding.rule == "invalid-value" && finding.message.contains("ip_allow[1]")),
        "{findings:#?}"
    );
}

#[test]
fn versions_no_request_can_select_are_found() {
    let files = edited("apis/pets.yaml", "      selector: { kind: path, segment: v1 }\n", "");
    let files = {
        let mut files = files;
        let (_, text) = files.iter_mut().find(|(path, _)| *path == "apis/pets.yaml").unwrap();
        *text = text.replace("      selector: { kind: path, segment: v2 }\n", "");
        files
    };
    let findings = run(&files);
    let found = expect(
        &findings,
        &files,
        "version-unrouted",
        Severity::Error,
        "apis/pets.yaml",
        "- name: v2",
    );
    assert!(
        found.message.contains("`v1`") && found.message.contains("default"),
        "{found:?}"
    );
    once(&findings, "version-unrouted");

    // Header names match in any case, so these two selectors are one.
    let files = edited(
        "apis/pets.yaml",
        "selector: { kind: path, segment: v1 }",
        "selector: { kind: header, name: Api-Version, value: '2' }",
    );
    let files = {
        let mut files = files;
        let (_, text) = files.iter_mut().find(|(path, _)| *path == "apis/pets.yaml").unwrap();
        *text = text.replace(
            "selector: { kind: path, segment: v2 }",
            "selector: { kind: header, name: api-version, value: '2' }",
        );
        files
    };
    let findings = run(&files);
    let (line, _) = place_of(&files, "apis/pets.yaml", "name: api-version");
    assert!(
        findings
            .iter()
            .any(|finding| finding.rule == "version-unrouted" && finding.location.line == line),
        "{findings:#?}"
    );
}

#[test]
fn a_deprecated_version_without_a_published_one_is_found() {
    let files = edited("apis/pets.yaml", "status: published", "status: deprecated");
    let findings = run(&files);
    expect(
        &findings,
        &files,
        "deprecated-without-successor",
        Severity::Warning,
        "apis/pets.yaml",
        "status: deprecated",
    );
    assert_eq!(
        findings
            .iter()
            .filter(|finding| finding.rule == "deprecated-without-successor")
            .count(),
        2,
        "both versions: {findings:#?}"
    );
}

#[test]
fn a_successor_that_is_missing_or_a_draft_is_found() {
    let files = edited(
        "apis/pets.yaml",
        "      openapi_file: pets/v1.yaml\n",
        "      openapi_file: pets/v1.yaml\n      successor: v3\n",
    );
    let found = expect(
        &run(&files),
        &files,
        "successor-unserved",
        Severity::Error,
        "apis/pets.yaml",
        "successor: v3",
    );
    assert!(found.message.contains("not a version"), "{found:?}");
    let files = edited(
        "apis/pets.yaml",
        "      openapi_file: pets/v1.yaml\n    - name: v2\n      status: published\n",
        "      openapi_file: pets/v1.yaml\n      successor: v2\n    - name: v2\n      status: draft\n",
    );
    let found = expect(
        &run(&files),
        &files,
        "successor-unserved",
        Severity::Error,
        "apis/pets.yaml",
        "successor: v2",
    );
    assert!(found.message.contains("draft"), "{found:?}");
    let files = edited(
        "apis/pets.yaml",
        "      openapi_file: pets/v1.yaml\n",
        "      openapi_file: pets/v1.yaml\n      successor: v2\n",
    );
    assert!(
        run(&files).iter().all(|finding| finding.rule != "successor-unserved"),
        "a published successor is fine"
    );
}

#[test]
fn an_api_no_policy_grants_is_a_warning() {
    let files = with(
        clean(),
        "apis/orders.yaml",
        "kind: ExternalApi\nname: orders\nspec:\n  route: { host: orders.example.com, path_prefix: / }\n  upstream: { targets: [ { url: 'https://orders.example.net' } ] }\n",
    );
    let findings = run(&files);
    expect(
        &findings,
        &files,
        "api-not-granted",
        Severity::Warning,
        "apis/orders.yaml",
        "name: orders",
    );
    once(&findings, "api-not-granted");
    assert!(!fails(&findings, false));
    assert!(fails(&findings, true), "--deny-warnings");
}

#[test]
fn secrets_in_plain_text_are_found_and_never_printed() {
    let key = format!("ghk_{}", "Zq7".repeat(10));
    let files = with(
        edited(
            "apis/pets.yaml",
            "url: 'http://127.0.0.1:9000'",
            "url: 'http://svc:hunter2-pw@127.0.0.1:9000'",
        ),
        "notes.yaml",
        &format!("# try it with {key}\nkind: Group\nname: testers\nspec:\n  description: testers\n"),
    );
    let files = {
        let mut files = files;
        let (_, text) = files.iter_mut().find(|(path, _)| *path == "apis/pets/v1.yaml").unwrap();
        text.push_str("components:\n  examples:\n    login: { value: { user: bob, password: s3cr3t-pw } }\n");
        files
    };
    let (set, problems) = read(&files);
    let findings = lint(&set, problems);
    let in_url = expect(
        &findings,
        &files,
        "plain-secret",
        Severity::Error,
        "apis/pets.yaml",
        "hunter2",
    );
    assert_eq!(in_url.location.column, place_of(&files, "apis/pets.yaml", "hunter2").1);
    let marked = expect(&findings, &files, "plain-secret", Severity::Error, "notes.yaml", "ghk_");
    assert!(marked.message.contains("API key"), "{marked:?}");
    expect(
        &findings,
        &files,
        "plain-secret",
        Severity::Error,
        "apis/pets/v1.yaml",
        "s3cr3t",
    );
    for format in [Format::Text, Format::Json, Format::Sarif] {
        let rendered = output::render(format, &findings, &set, ".");
        for secret in [key.as_str(), "hunter2", "s3cr3t"] {
            assert!(!rendered.contains(secret), "{format:?} shows {secret}:\n{rendered}");
        }
    }
}

#[test]
fn findings_come_sorted_by_file_line_and_column() {
    let files = with(
        edited(
            "access.yaml",
            "  groups: [partners, support]",
            "  groups: [nobody, support]",
        ),
        "zz.yaml",
        "kind: Group\nname: [oops\n",
    );
    let files = {
        let mut files = files;
        let (_, text) = files.iter_mut().find(|(path, _)| *path == "apis/pets.yaml").unwrap();
        *text = text.replace("path_prefix: /pets", "path_prefix: pets");
        files
    };
    let findings = run(&files);
    let mut files_found: Vec<&str> = findings.iter().map(|finding| finding.location.file.as_str()).collect();
    files_found.dedup();
    assert_eq!(
        files_found,
        ["access.yaml", "apis/pets.yaml", "zz.yaml"],
        "{findings:#?}"
    );
    let places: Vec<_> = findings.iter().map(|finding| finding.location.clone()).collect();
    let mut sorted = places.clone();
    sorted.sort();
    assert_eq!(places, sorted);
}

#[test]
fn text_output_shows_the_offending_line_with_a_caret() {
    let files = edited(
        "access.yaml",
        "  groups: [partners, support]",
        "  groups: [partners, suport]",
    );
    let (set, problems) = read(&files);
    let findings = lint(&set, problems);
    let text = output::text(&findings, &set, "manifests");
    let (line, column) = place_of(&files, "access.yaml", "suport");
    assert!(
        text.contains("error[unknown-reference]:"),
        "the severity and the rule head each finding:\n{text}"
    );
    assert!(
        text.contains(&format!("--> manifests/access.yaml:{line}:{column}")),
        "{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    let shown = lines
        .iter()
        .position(|shown| shown.ends_with("  groups: [partners, suport]"))
        .unwrap_or_else(|| panic!("the line is shown:\n{text}"));
    let source_start = lines[shown].find("  groups").unwrap();
    let caret = lines[shown + 1];
    assert_eq!(
        caret.find('^'),
        Some(source_start + column - 1),
        "the caret is under the column:\n{text}"
    );
    assert!(text.contains("= hint: did you mean `support`?"), "{text}");
    assert!(text.trim_end().ends_with("(5 documents in 3 files)"), "{text}");
    assert!(text.contains("1 error, 0 warnings"), "{text}");
}

#[test]
fn json_output_lists_each_finding_with_its_place() {
    let files = edited("access.yaml", "  plan: gold", "  plan: golden");
    let (set, problems) = read(&files);
    let findings = lint(&set, problems);
    let document: Value = serde_json::from_str(&output::json(&findings, "manifests")).unwrap();
    let (line, column) = place_of(&files, "access.yaml", "golden");
    assert_eq!(document["errors"], 1);
    assert_eq!(document["warnings"], 0);
    let finding = &document["findings"][0];
    assert_eq!(finding["rule"], "unknown-reference");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["file"], "manifests/access.yaml");
    assert_eq!(finding["line"], line);
    assert_eq!(finding["column"], column);
    assert!(finding["message"].as_str().unwrap().contains("golden"));
    assert!(finding["hint"].as_str().unwrap().contains("gold"));
}

#[test]
fn sarif_output_has_what_code_scanning_needs() {
    let files = with(
        edited("access.yaml", "  plan: gold", "  plan: golden"),
        "apis/orders.yaml",
        "kind: Api\nname: orders\nspec:\n  route: { path_prefix: /orders }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9003' } ] }\n",
    );
    let (set, problems) = read(&files);
    let findings = lint(&set, problems);
    let document: Value = serde_json::from_str(&output::sarif(&findings, "deploy/manifests/")).unwrap();
    assert_eq!(document["version"], "2.1.0");
    assert!(document["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &document["runs"][0];
    let driver = &run["tool"]["driver"];
    assert!(driver["name"].as_str().is_some_and(|name| !name.is_empty()));
    let rules = driver["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|rule| rule["id"].as_str().unwrap()).collect();
    for rule in rules {
        assert!(
            rule["shortDescription"]["text"]
                .as_str()
                .is_some_and(|text| !text.is_empty()),
            "{rule}"
        );
        assert!(
            ["error", "warning", "note"].contains(&rule["defaultConfiguration"]["level"].as_str().unwrap()),
            "{rule}"
        );
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (result, finding) in results.iter().zip(&findings) {
        let rule_id = result["ruleId"].as_str().unwrap();
        assert!(rule_ids.contains(&rule_id), "{rule_id} is a rule of the driver");
        assert_eq!(
            rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
            rule_id,
            "ruleIndex points at its rule"
        );
        assert_eq!(result["level"], finding.severity.as_str());
        assert!(result["message"]["text"].as_str().unwrap().contains(&finding.message));
        let physical = &result["locations"][0]["physicalLocation"];
        assert_eq!(
            physical["artifactLocation"]["uri"],
            format!("deploy/manifests/{}", finding.location.file)
        );
        assert_eq!(physical["region"]["startLine"], finding.location.line);
        assert_eq!(physical["region"]["startColumn"], finding.location.column);
    }
    let levels: Vec<&str> = results.iter().map(|result| result["level"].as_str().unwrap()).collect();
    assert!(levels.contains(&"error") && levels.contains(&"warning"), "{levels:?}");
}

#[test]
fn every_rule_is_documented() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/MANIFESTS.md")).unwrap();
    let linting = &docs[docs
        .find("## Linting")
        .expect("docs/MANIFESTS.md has a Linting section")..];
    for rule in hub::lint::RULES {
        let row = format!("| `{}` | {} |", rule.id, rule.severity.as_str());
        assert!(
            linting.contains(&row),
            "docs/MANIFESTS.md lists `{}` as {}",
            rule.id,
            rule.severity.as_str()
        );
    }
}
