//! Findings rendered for people (text, each with its line of the file and a caret under the
//! column, the way rustc shows errors), for scripts (JSON) and for code-scanning tools (SARIF
//! 2.1.0, as GitHub code scanning takes it).
//!
//! Paths in findings are relative to the linted directory; `base` is that directory as the
//! user named it, put in front so that paths are relative to where the lint ran (SARIF needs
//! them relative to the repository's root, which is where CI runs).

use serde_json::{Value, json};

use super::{Finding, RULES, Severity};
use crate::manifest::ManifestSet;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people: each finding with its line and a caret, then the counts.
    Text,
    /// For scripts: the findings and the counts as one JSON document.
    Json,
    /// For code scanning: one SARIF 2.1.0 run.
    Sarif,
}

/// The findings in a format; `set` gives the text output its lines and counts.
pub fn render(format: Format, findings: &[Finding], set: &ManifestSet, base: &str) -> String {
    match format {
        Format::Text => text(findings, set, base),
        Format::Json => json(findings, base),
        Format::Sarif => sarif(findings, base),
    }
}

/// Every finding with its line and a caret, a hint, and a closing count.
pub fn text(findings: &[Finding], set: &ManifestSet, base: &str) -> String {
    let secrets: Vec<&crate::manifest::Location> = findings
        .iter()
        .filter(|finding| finding.rule == "plain-secret")
        .map(|finding| &finding.location)
        .collect();
    let mut out = String::new();
    for finding in findings {
        let location = &finding.location;
        out.push_str(&format!(
            "{}[{}]: {}\n",
            finding.severity.as_str(),
            finding.rule,
            finding.message
        ));
        let gutter = " ".repeat(location.line.to_string().len());
        out.push_str(&format!(
            "{gutter}--> {}:{}:{}\n",
            display_path(base, &location.file),
            location.line,
            location.column
        ));
        let line = set
            .file(&location.file)
            .and_then(|file| file.text.lines().nth(location.line.checked_sub(1)?));
        if let Some(line) = line {
            // Whatever finding shows a line with a secret on it, the secret stays hidden.
            let secret_column = secrets
                .iter()
                .filter(|secret| secret.file == location.file && secret.line == location.line)
                .map(|secret| secret.column)
                .min();
            let shown = match secret_column {
                Some(column) => redacted(line, column),
                None => line.to_owned(),
            };
            out.push_str(&format!("{gutter} |\n"));
            out.push_str(&format!("{} | {shown}\n", location.line));
            out.push_str(&format!("{gutter} | {}^\n", caret_padding(&shown, location.column)));
        }
        out.push_str(&format!("{gutter} = hint: {}\n\n", finding.hint));
    }
    let (errors, warnings, notes) = counts(findings);
    let checked = format!(
        "{} in {}",
        plural(set.documents.len(), "document"),
        plural(set.files.len(), "file")
    );
    if findings.is_empty() {
        out.push_str(&format!("no problems found ({checked})\n"));
    } else {
        let mut parts = vec![plural(errors, "error"), plural(warnings, "warning")];
        if notes > 0 {
            parts.push(plural(notes, "note"));
        }
        out.push_str(&format!("{} ({checked})\n", parts.join(", ")));
    }
    out
}

/// `{"findings": [{rule, severity, file, line, column, message, hint}], "errors": n, …}`.
pub fn json(findings: &[Finding], base: &str) -> String {
    let findings: Vec<Finding> = findings
        .iter()
        .map(|finding| {
            let mut finding = finding.clone();
            finding.location.file = display_path(base, &finding.location.file);
            finding
        })
        .collect();
    let (errors, warnings, notes) = counts(&findings);
    let document = json!({
        "findings": findings,
        "errors": errors,
        "warnings": warnings,
        "notes": notes,
    });
    format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default())
}

/// One SARIF 2.1.0 run: the linter with every rule, and a result per finding.
pub fn sarif(findings: &[Finding], base: &str) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule_name(rule.id),
                "shortDescription": { "text": rule.summary },
                "fullDescription": { "text": rule.summary },
                "help": { "text": rule.hint },
                "defaultConfiguration": { "level": rule.severity.as_str() },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let mut result = json!({
                "ruleId": finding.rule,
                "level": finding.severity.as_str(),
                "message": { "text": format!("{} (hint: {})", finding.message, finding.hint) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(base, &finding.location.file) },
                        "region": {
                            "startLine": finding.location.line.max(1),
                            "startColumn": finding.location.column.max(1),
                        }
                    }
                }],
            });
            if let Some(index) = RULES.iter().position(|rule| rule.id == finding.rule) {
                result["ruleIndex"] = json!(index);
            }
            result
        })
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "gatehouse lint",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            // Columns count characters, as the YAML reader does.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default())
}

fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let count = |severity: Severity| findings.iter().filter(|finding| finding.severity == severity).count();
    (count(Severity::Error), count(Severity::Warning), count(Severity::Note))
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}

/// The path as the user sees it: `base/path`, without a leading `./`.
fn display_path(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_prefix("./").unwrap_or(base);
    if base.is_empty() || base == "." {
        path.to_owned()
    } else {
        format!("{base}/{path}")
    }
}

/// A SARIF artifact URI: relative and percent-encoded, or a `file://` URI for an absolute base.
fn uri(base: &str, path: &str) -> String {
    let full = display_path(base, path);
    let mut encoded = String::new();
    for byte in full.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    if full.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// `route-collision` → `RouteCollision`, SARIF's readable rule name.
fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The line up to the secret, and stars in place of the rest: lint output goes to CI logs.
fn redacted(line: &str, column: usize) -> String {
    let kept: String = line.chars().take(column.saturating_sub(1)).collect();
    format!("{kept}********")
}

/// Blanks as wide as the line's characters before `column`, tabs kept, so the caret lines up.
fn caret_padding(line: &str, column: usize) -> String {
    line.chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect()
}
