//! The report for people and tools: plain text for a terminal, JSON (the [`Report`] as it is),
//! and Markdown made for a pull-request comment, which starts with a marker line so a CI job
//! can find and update its earlier comment instead of adding another.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Report, Severity};

/// The first line of every Markdown report, for finding the comment again.
pub const MARKDOWN_MARKER: &str = "<!-- gatehouse-impact -->";

/// Users listed by name in text, before "and N more".
const TEXT_NAMES: usize = 20;

/// The report as lines for a terminal.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Change impact: {} ({})",
        report.verdict.as_str(),
        changes(report.items.len())
    );
    if report.items.is_empty() {
        let _ = writeln!(out, "No API, version, route, plan or grant changes.");
        return out;
    }
    if !report.apis.is_empty() {
        let _ = writeln!(out, "APIs:   {}", report.apis.join(", "));
    }
    if !report.groups.is_empty() {
        let _ = writeln!(out, "Groups: {}", report.groups.join(", "));
    }
    if let Some(users) = &report.users {
        let _ = writeln!(out, "Users:  {}", names(users, TEXT_NAMES));
    }
    out.push('\n');
    let width = report
        .items
        .iter()
        .map(|item| item.severity.as_str().len())
        .max()
        .unwrap_or(0);
    for item in &report.items {
        let _ = writeln!(out, "{:<width$}  {}", item.severity.as_str(), item.message);
        if let Some(users) = item.users.as_ref().filter(|users| !users.is_empty()) {
            let _ = writeln!(out, "{:<width$}    users: {}", "", names(users, TEXT_NAMES));
        }
        if let Some(applications) = item
            .applications
            .as_ref()
            .filter(|applications| !applications.is_empty())
        {
            let _ = writeln!(
                out,
                "{:<width$}    applications: {}",
                "",
                names(applications, TEXT_NAMES)
            );
        }
    }
    out
}

/// The report as pretty JSON: the [`Report`] type is the format.
pub fn render_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report always serialises")
}

/// The report as a pull-request comment: the verdict, whom it affects, a table of changes
/// (worst first) and, when users are known, each user's changes under a fold.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKDOWN_MARKER}");
    let _ = writeln!(out, "### Gatehouse change impact: `{}`", report.verdict.as_str());
    out.push('\n');
    if report.items.is_empty() {
        let _ = writeln!(out, "No API, version, route, plan or grant changes.");
        return out;
    }
    let mut tally: BTreeMap<Severity, usize> = BTreeMap::new();
    for item in &report.items {
        *tally.entry(item.severity).or_default() += 1;
    }
    let tally: Vec<String> = tally
        .iter()
        .map(|(severity, n)| format!("{n} {}", severity.as_str()))
        .collect();
    let _ = writeln!(out, "{} — {}.", changes(report.items.len()), tally.join(", "));
    let mut affects = Vec::new();
    if !report.apis.is_empty() {
        affects.push(format!("APIs {}", code_list(&report.apis)));
    }
    if !report.groups.is_empty() {
        affects.push(format!("groups {}", code_list(&report.groups)));
    }
    if let Some(users) = &report.users {
        affects.push(super::count(users.len(), "user", "users"));
    }
    if !affects.is_empty() {
        let _ = writeln!(out, "Affects {}.", affects.join("; "));
    }
    out.push('\n');
    let _ = writeln!(out, "| # | Severity | Change |");
    let _ = writeln!(out, "| ---: | --- | --- |");
    for (index, item) in report.items.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | **{}** | {} |",
            index + 1,
            item.severity.as_str(),
            cell(&item.message)
        );
    }
    if let Some(users) = report.users.as_ref().filter(|users| !users.is_empty()) {
        out.push('\n');
        let _ = writeln!(out, "<details><summary>Users affected ({})</summary>\n", users.len());
        for user in users {
            let numbers: Vec<String> = report
                .items
                .iter()
                .enumerate()
                .filter(|(_, item)| item.users.as_ref().is_some_and(|users| users.contains(user)))
                .map(|(index, _)| format!("#{}", index + 1))
                .collect();
            let _ = writeln!(out, "- `{user}`: {}", numbers.join(", "));
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}

fn changes(n: usize) -> String {
    if n == 1 {
        "1 change".to_owned()
    } else {
        format!("{n} changes")
    }
}

/// `a, b, c and 3 more`.
fn names(all: &[String], at_most: usize) -> String {
    if all.is_empty() {
        return "none".to_owned();
    }
    let shown = all.iter().take(at_most).cloned().collect::<Vec<_>>().join(", ");
    match all.len().saturating_sub(at_most) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

fn code_list(names: &[String]) -> String {
    super::quoted(names)
}

/// A message in a table cell: a `|` would end the cell, a line break the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
