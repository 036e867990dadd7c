//! Path rewrite: the path the upstream sees, made from the request's by a prefix replacement or
//! a template, before the target's base path is prepended. Checked when the snapshot loads.

use http::Uri;
use http::uri::PathAndQuery;

use super::Problems;
use crate::pipeline::Routed;
use crate::snapshot::PathRewriteSpec;

const REST: &str = "{rest}";

#[derive(Debug)]
pub enum PathRewrite {
    /// The forwarded path's leading `from` becomes `to`.
    Prefix { from: Box<str>, to: Box<str> },
    /// `before`, then (when the template has `{rest}`) the rest of the path, then `after`.
    Template {
        before: Box<str>,
        rest: bool,
        after: Box<str>,
    },
}

impl PathRewrite {
    pub(super) fn compile(spec: &PathRewriteSpec, field: &str, problems: &mut Problems) -> Option<PathRewrite> {
        match spec {
            PathRewriteSpec::Prefix { from, to } => {
                let from_ok = check_path(from, &format!("{field}.from"), problems);
                let to_ok = check_path(to, &format!("{field}.to"), problems);
                (from_ok && to_ok).then(|| PathRewrite::Prefix {
                    from: from.trim_end_matches('/').into(),
                    to: to.trim_end_matches('/').into(),
                })
            }
            PathRewriteSpec::Template { template } => {
                let field = format!("{field}.template");
                if template.matches(REST).count() > 1 {
                    problems.push(&field, "may hold `{rest}` at most once");
                    return None;
                }
                let (before, after) = template.split_once(REST).unwrap_or((template, ""));
                let literal = format!("{before}{after}");
                if literal.contains(['{', '}']) {
                    problems.push(&field, "knows only the placeholder `{rest}`");
                    return None;
                }
                check_path(&literal, &field, problems).then(|| PathRewrite::Template {
                    before: before.into(),
                    rest: template.contains(REST),
                    after: after.into(),
                })
            }
        }
    }

    /// The upstream's request target: the target's base path, the rewritten path, the query.
    pub fn upstream_uri(&self, strip_prefix: bool, routed: &Routed, original: &Uri, base_path: &str) -> Uri {
        let path = original.path();
        let rest = &path[(routed.prefix_len + routed.segment_len).min(path.len())..];
        let mut joined = String::with_capacity(base_path.len() + path.len() + 32);
        joined.push_str(base_path);
        match self {
            PathRewrite::Prefix { from, to } => {
                let forwarded = if strip_prefix { rest } else { path };
                let forwarded = if forwarded.is_empty() { "/" } else { forwarded };
                // On a segment boundary: `/old` takes `/old` and `/old/x`, not `/older`.
                match forwarded.strip_prefix(&**from) {
                    Some(tail) if tail.is_empty() || tail.starts_with('/') => {
                        joined.push_str(to);
                        joined.push_str(tail);
                        if to.is_empty() && tail.is_empty() {
                            joined.push('/');
                        }
                    }
                    _ => joined.push_str(forwarded),
                }
            }
            PathRewrite::Template {
                before,
                rest: with_rest,
                after,
            } => {
                joined.push_str(before);
                if *with_rest {
                    let rest = rest.trim_start_matches('/');
                    if joined.ends_with('/') || rest.is_empty() {
                        joined.push_str(rest);
                    } else {
                        joined.push('/');
                        joined.push_str(rest);
                    }
                }
                joined.push_str(after);
            }
        }
        if let Some(query) = original.query() {
            joined.push('?');
            joined.push_str(query);
        }
        Uri::from(PathAndQuery::try_from(joined).unwrap_or_else(|_| PathAndQuery::from_static("/")))
    }
}

/// A rewrite's literal path: starts with `/`, and is a valid path without query or dot segments.
fn check_path(path: &str, field: &str, problems: &mut Problems) -> bool {
    let ok = path.starts_with('/')
        && path.len() <= 1024
        && !path.contains(['?', '#'])
        && !path.split('/').any(|segment| segment == "." || segment == "..")
        && PathAndQuery::try_from(path).is_ok();
    if !ok {
        problems.push(
            field,
            format!("`{path}` must be a path starting with `/`, without query, fragment or dot segments"),
        );
    }
    ok
}
