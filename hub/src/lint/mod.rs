//! The linter: a manifest set checked offline, without a hub or a store. Every finding has its
//! file, line and column, a stable rule id, a severity and a fix hint.
//!
//! Reading (`manifest::load`) and building (`manifest::state`) report YAML, schema and model
//! problems; this module turns those into findings and adds the checks that need the whole set:
//! references between documents (`references`), routes as the gateway matches them (`routes`),
//! versions and their OpenAPI documents (`versions`), plans (`plans`), IP allow and deny lists
//! (`addresses`) and secrets written in plain text (`secrets`).
//! [`output`] renders findings as text, JSON or SARIF. docs/MANIFESTS.md ("Linting") lists the
//! rules with examples; [`RULES`] is the same list for tools.

mod addresses;
mod index;
pub mod output;
mod plans;
mod references;
mod routes;
mod secrets;
mod versions;

use serde::Serialize;

use crate::manifest::{Location, ManifestSet, Problem, state};
use index::Index;

/// One thing wrong (or worth a look) in a manifest set, at its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's stable id (`unknown-reference`), one of [`RULES`].
    pub rule: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// Where it is; serialised as `file`, `line` and `column` beside the other fields.
    #[serde(flatten)]
    pub location: Location,
    /// What is wrong, naming the objects. Never contains a secret's value.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// How much a finding matters: errors fail the lint, warnings fail it with `--deny-warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The hub refuses it, publishing fails, something can never be reached, or a secret leaks.
    Error,
    /// It works, but is probably not what was meant.
    Warning,
    /// Worth knowing; never fails a lint.
    Note,
}

impl Severity {
    /// The word shown in text output and used as SARIF's `level`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A rule the linter checks: its id, default severity, one-line description and generic hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable: CI configurations and SARIF consumers key on it.
    pub id: &'static str,
    /// The severity of every finding of the rule.
    pub severity: Severity,
    /// What the rule finds, in one sentence (SARIF's `shortDescription`).
    pub summary: &'static str,
    /// How to fix what it finds, when a finding has nothing more specific to say.
    pub hint: &'static str,
}

/// Every rule, in the order docs/MANIFESTS.md lists them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "yaml-syntax",
        severity: Severity::Error,
        summary: "A file is not valid YAML.",
        hint: "fix the YAML at this place; documents in one file are separated by `---` lines",
    },
    Rule {
        id: "schema",
        severity: Severity::Error,
        summary: "A document is not `kind`, `name` and `spec`, names an unknown kind, or has an unknown field or a value of the wrong type.",
        hint: "compare with the format in docs/MANIFESTS.md; an editor given docs/manifest.schema.json checks it as it is written",
    },
    Rule {
        id: "invalid-value",
        severity: Severity::Error,
        summary: "A value the hub's model refuses (a name that is not a slug, a path prefix without `/`, a bad URL).",
        hint: "change the value as the message says; the hub's REST API refuses it the same way",
    },
    Rule {
        id: "missing-file",
        severity: Severity::Error,
        summary: "An `openapi_file` that is not a file of the manifest set.",
        hint: "`openapi_file` is relative to the manifest's own file and cannot leave the linted directory; add the file or fix the path",
    },
    Rule {
        id: "duplicate-name",
        severity: Severity::Error,
        summary: "Two documents of one kind, or two versions of one API, with the same name.",
        hint: "rename or remove one of them; an API and an external API share one name space",
    },
    Rule {
        id: "openapi-invalid",
        severity: Severity::Error,
        summary: "An API version's OpenAPI document does not parse, or is not an OpenAPI 3 document.",
        hint: "fix the document at the parser's place; it needs `openapi: 3.x`, `info.title` and `paths`",
    },
    Rule {
        id: "unknown-reference",
        severity: Severity::Error,
        summary: "An access policy names a group, plan, API or API version that no manifest defines.",
        hint: "define it in a manifest, or fix the name",
    },
    Rule {
        id: "grant-unserved-version",
        severity: Severity::Error,
        summary: "An access policy grants a draft or retired version; publishing refuses it.",
        hint: "publish the version first, or remove it from the policy",
    },
    Rule {
        id: "grant-unknown-operation",
        severity: Severity::Error,
        summary: "An access policy grants an operation id that no granted version's OpenAPI document defines; publishing refuses it.",
        hint: "use an `operationId` from the version's OpenAPI document, or add the operation to the document",
    },
    Rule {
        id: "grant-unknown-method",
        severity: Severity::Warning,
        summary: "An access policy grants an HTTP method that no path of the granted versions' OpenAPI documents has.",
        hint: "remove the method from the grant, or document the operation that uses it",
    },
    Rule {
        id: "api-not-granted",
        severity: Severity::Warning,
        summary: "An API that no access policy grants, so no API key can call it.",
        hint: "grant it to a group in an AccessPolicy; ignore this while the API is not meant to be called yet",
    },
    Rule {
        id: "route-collision",
        severity: Severity::Error,
        summary: "Two APIs claim the same host and path prefix, however they are spelled.",
        hint: "give one of them another path prefix or host",
    },
    Rule {
        id: "route-shadowed",
        severity: Severity::Error,
        summary: "A version's path selector is another API's exact route, so requests for the version go to that API.",
        hint: "change the version's path segment, or the other API's prefix",
    },
    Rule {
        id: "version-unrouted",
        severity: Severity::Error,
        summary: "A version that no request can select: an earlier version of the same API holds the same selector (both without one, or the same path segment, header or query parameter).",
        hint: "give every version but one a selector (a path segment, a header or a query parameter), each different",
    },
    Rule {
        id: "deprecated-without-successor",
        severity: Severity::Warning,
        summary: "A deprecated version of an API that has no published version to move to.",
        hint: "publish the version that replaces it, or keep this one published until there is one",
    },
    Rule {
        id: "successor-unserved",
        severity: Severity::Error,
        summary: "A version's successor that is not a version of the same API, or is a draft (publishing refuses a link to a version no gateway serves).",
        hint: "name a published version of this API as the successor, or publish it first",
    },
    Rule {
        id: "quota-below-rate",
        severity: Severity::Warning,
        summary: "A plan whose quota is smaller than what its rate limit allows in one window, so the rate limit never applies.",
        hint: "raise the quota to at least the rate limit's requests, or lower the rate limit",
    },
    Rule {
        id: "ip-allow-all-denied",
        severity: Severity::Error,
        summary: "An access policy's or an API's ip_allow list whose every network is inside an ip_deny network, so no address is ever allowed.",
        hint: "remove the deny entries that cover the allow list, or widen the allow list; ip_deny wins over ip_allow",
    },
    Rule {
        id: "ip-deny-outside-allow",
        severity: Severity::Warning,
        summary: "An ip_deny entry that overlaps no ip_allow network, so it refuses nothing the allow list would admit.",
        hint: "remove the entry, or add the network it was meant to carve out of to ip_allow",
    },
    Rule {
        id: "plain-secret",
        severity: Severity::Error,
        summary: "A secret written in plain text: a Gatehouse API key, admin token, gateway token or password link, a password in a URL, or a literal value of a field named like a password, secret, token or API key.",
        hint: "remove it from the file and rotate it: it is in the repository's history; manifests carry no secrets",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

/// Lints a set: the problems found while reading it (`manifest::load::parse`), the model's own
/// (`manifest::state::build`, run here) and every rule of this module, sorted by file, line and
/// column.
pub fn lint(set: &ManifestSet, problems_from_loading: Vec<Problem>) -> Vec<Finding> {
    let (_, problems_from_building) = state::build(set);
    let mut findings: Vec<Finding> = problems_from_loading
        .into_iter()
        .chain(problems_from_building)
        .filter_map(from_problem)
        .collect();
    let index = Index::new(set);
    versions::check_openapi(&index, &mut findings);
    references::check(&index, &mut findings);
    routes::check(&index, &mut findings);
    versions::check(&index, &mut findings);
    plans::check(&index, &mut findings);
    addresses::check(&index, &mut findings);
    let secrets = secrets::check(set, &mut findings);
    // A reader's message may quote a value (serde's "invalid type: string …").
    for finding in findings.iter_mut().filter(|finding| finding.rule != "plain-secret") {
        for secret in &secrets {
            finding.message = finding.message.replace(secret.as_str(), "********");
        }
    }
    for finding in &mut findings {
        clamp_to_file(set, &mut finding.location);
    }
    findings.sort_by(|left, right| {
        (&left.location, left.severity, left.rule, &left.message).cmp(&(
            &right.location,
            right.severity,
            right.rule,
            &right.message,
        ))
    });
    findings.dedup();
    findings
}

/// Whether a lint fails: any error, or any warning when warnings are denied.
pub fn fails(findings: &[Finding], deny_warnings: bool) -> bool {
    findings.iter().any(|finding| match finding.severity {
        Severity::Error => true,
        Severity::Warning => deny_warnings,
        Severity::Note => false,
    })
}

/// A YAML reader reports an unclosed list or string at the end of the input, past the file's
/// last line; the end of its last line is where a reader of the file can see it.
fn clamp_to_file(set: &ManifestSet, location: &mut Location) {
    let Some(file) = set.file(&location.file) else { return };
    let lines: Vec<&str> = file.text.lines().collect();
    if location.line > lines.len()
        && let Some((index, last)) = lines.iter().enumerate().rev().find(|(_, line)| !line.trim().is_empty())
    {
        location.line = index + 1;
        location.column = last.chars().count() + 1;
    }
}

/// A finding with the rule's severity and generic hint.
fn finding(rule_id: &'static str, location: Location, message: String) -> Finding {
    let rule = rule(rule_id).expect("every rule the linter reports is in RULES");
    Finding {
        rule: rule.id,
        severity: rule.severity,
        location,
        message,
        hint: rule.hint.to_owned(),
    }
}

/// A loading or building problem as a finding. The model's OpenAPI check is left out: the
/// linter checks OpenAPI documents itself, to place a parser error at its line in the document.
fn from_problem(problem: Problem) -> Option<Finding> {
    let field = problem.field.as_str();
    let rule_id = match problem.rule {
        "openapi-invalid" if field.ends_with("openapi") => return None,
        // `manifest::state` files any model message naming OpenAPI under this rule, such as an
        // access policy's malformed operation id; that is a value problem, not a document's.
        "openapi-invalid" => "invalid-value",
        other => other,
    };
    // The model's and serde's messages do not name the field they are about.
    let message = if matches!(rule_id, "invalid-value" | "schema") && field.starts_with("spec") {
        format!("`{field}`: {}", problem.message)
    } else {
        problem.message
    };
    Some(match rule(rule_id) {
        Some(rule) => Finding {
            rule: rule.id,
            severity: rule.severity,
            location: problem.location,
            message,
            hint: rule.hint.to_owned(),
        },
        // A rule the reader learnt after this list was written still fails the lint.
        None => Finding {
            rule: problem.rule,
            severity: Severity::Error,
            location: problem.location,
            message,
            hint: "see docs/MANIFESTS.md".to_owned(),
        },
    })
}

#[cfg(test)]
mod tests;
