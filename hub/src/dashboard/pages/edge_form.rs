//! The edge rules on the API form: CORS, IP lists, the body limit, header transforms and the path
//! rewrite, as plain text fields. The model (`model::EdgeRules`, checked by the gateway's own
//! compiler) judges what is typed; this module only splits lines and words.

use serde::Deserialize;

use crate::dashboard::form::{FieldErrors, number, words};
use crate::model::EdgeRules;
use crate::model::edge::{Cors, HeaderAdd, HeaderRename, HeaderRules, PathRewrite};

/// The edge fields as typed. All text, so they flatten into the API form.
#[derive(Deserialize, Default, Clone)]
pub struct EdgeFields {
    #[serde(default)]
    pub edge_cors_origins: String,
    #[serde(default)]
    pub edge_cors_methods: String,
    #[serde(default)]
    pub edge_cors_headers: String,
    #[serde(default)]
    pub edge_cors_expose: String,
    /// `on` when checked.
    #[serde(default)]
    pub edge_cors_credentials: String,
    #[serde(default)]
    pub edge_cors_max_age: String,
    #[serde(default)]
    pub edge_ip_allow: String,
    #[serde(default)]
    pub edge_ip_deny: String,
    #[serde(default)]
    pub edge_trusted_proxies: String,
    #[serde(default)]
    pub edge_max_body_bytes: String,
    /// One change a line: `remove NAME`, `rename FROM TO`, `add NAME VALUE`.
    #[serde(default)]
    pub edge_request_headers: String,
    #[serde(default)]
    pub edge_response_headers: String,
    /// `/old => /new` (a prefix), or a template such as `/v2/{rest}`.
    #[serde(default)]
    pub edge_path_rewrite: String,
}

impl EdgeFields {
    pub fn of(edge: Option<&EdgeRules>) -> EdgeFields {
        let Some(edge) = edge else {
            return EdgeFields::default();
        };
        let cors = edge.cors.clone().unwrap_or_default();
        EdgeFields {
            edge_cors_origins: cors.allow_origins.join("\n"),
            edge_cors_methods: cors.allow_methods.join(", "),
            edge_cors_headers: cors.allow_headers.join(", "),
            edge_cors_expose: cors.expose_headers.join(", "),
            edge_cors_credentials: if cors.allow_credentials {
                "on".into()
            } else {
                String::new()
            },
            edge_cors_max_age: cors.max_age_seconds.map(|age| age.to_string()).unwrap_or_default(),
            edge_ip_allow: edge.ip_allow.join("\n"),
            edge_ip_deny: edge.ip_deny.join("\n"),
            edge_trusted_proxies: edge.trusted_proxies.join("\n"),
            edge_max_body_bytes: edge.max_body_bytes.map(|limit| limit.to_string()).unwrap_or_default(),
            edge_request_headers: headers_text(&edge.request_headers),
            edge_response_headers: headers_text(&edge.response_headers),
            edge_path_rewrite: match &edge.path_rewrite {
                None => String::new(),
                Some(PathRewrite::Prefix { from, to }) => format!("{from} => {to}"),
                Some(PathRewrite::Template { template }) => template.clone(),
            },
        }
    }

    /// The rules the fields describe; `None` when every field is empty.
    pub fn parse(&self, errors: &mut FieldErrors) -> Option<EdgeRules> {
        let origins = words(&self.edge_cors_origins);
        let cors_used = !origins.is_empty()
            || [
                &self.edge_cors_methods,
                &self.edge_cors_headers,
                &self.edge_cors_expose,
                &self.edge_cors_max_age,
                &self.edge_cors_credentials,
            ]
            .iter()
            .any(|text| !text.trim().is_empty());
        let max_age = Some(self.edge_cors_max_age.trim())
            .filter(|text| !text.is_empty())
            .and_then(|text| number(errors, "edge_cors_max_age", text))
            .map(|age| u32::try_from(age).unwrap_or(u32::MAX));
        let cors = cors_used.then(|| Cors {
            allow_origins: origins,
            allow_methods: words(&self.edge_cors_methods)
                .into_iter()
                .map(|method| method.to_ascii_uppercase())
                .collect(),
            allow_headers: words(&self.edge_cors_headers),
            expose_headers: words(&self.edge_cors_expose),
            allow_credentials: !self.edge_cors_credentials.trim().is_empty(),
            max_age_seconds: max_age,
        });
        let max_body_bytes = Some(self.edge_max_body_bytes.trim())
            .filter(|text| !text.is_empty())
            .and_then(|text| number(errors, "edge_max_body_bytes", text));
        let rewrite = self.edge_path_rewrite.trim();
        let path_rewrite = if rewrite.is_empty() {
            None
        } else if let Some((from, to)) = rewrite.split_once("=>") {
            Some(PathRewrite::Prefix {
                from: from.trim().to_owned(),
                to: to.trim().to_owned(),
            })
        } else {
            Some(PathRewrite::Template {
                template: rewrite.to_owned(),
            })
        };
        let edge = EdgeRules {
            cors,
            ip_allow: words(&self.edge_ip_allow),
            ip_deny: words(&self.edge_ip_deny),
            trusted_proxies: words(&self.edge_trusted_proxies),
            max_body_bytes,
            request_headers: parse_headers(errors, "edge_request_headers", &self.edge_request_headers),
            response_headers: parse_headers(errors, "edge_response_headers", &self.edge_response_headers),
            path_rewrite,
        };
        (!edge.is_empty()).then_some(edge)
    }
}

fn headers_text(rules: &HeaderRules) -> String {
    let mut lines: Vec<String> = rules.remove.iter().map(|name| format!("remove {name}")).collect();
    lines.extend(
        rules
            .rename
            .iter()
            .map(|rename| format!("rename {} {}", rename.from, rename.to)),
    );
    lines.extend(rules.add.iter().map(|add| format!("add {} {}", add.name, add.value)));
    lines.join("\n")
}

fn parse_headers(errors: &mut FieldErrors, field: &str, text: &str) -> HeaderRules {
    let mut rules = HeaderRules::default();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let (first, second) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let second = second.trim();
        match verb {
            "remove" if !first.is_empty() && second.is_empty() => rules.remove.push(first.to_owned()),
            "rename" if !first.is_empty() && !second.is_empty() && !second.contains(' ') => {
                rules.rename.push(HeaderRename {
                    from: first.to_owned(),
                    to: second.to_owned(),
                })
            }
            "add" if !first.is_empty() => rules.add.push(HeaderAdd {
                name: first.to_owned(),
                value: second.to_owned(),
            }),
            _ => errors.add(
                field,
                format!(
                    "line {}: write `remove NAME`, `rename FROM TO` or `add NAME VALUE`",
                    index + 1
                ),
            ),
        }
    }
    rules
}

/// Where the model's `edge.…` field paths go on the form.
pub fn place(field: &str) -> Option<&'static str> {
    let rest = field.strip_prefix("edge.")?;
    let head = rest.split(['.', '[']).next().unwrap_or(rest);
    Some(match head {
        "cors" => match rest
            .split('.')
            .nth(1)
            .map(|part| part.split('[').next().unwrap_or(part))
        {
            Some("allow_methods") => "edge_cors_methods",
            Some("allow_headers") => "edge_cors_headers",
            Some("expose_headers") => "edge_cors_expose",
            Some("allow_credentials") => "edge_cors_credentials",
            Some("max_age_seconds") => "edge_cors_max_age",
            _ => "edge_cors_origins",
        },
        "ip_allow" => "edge_ip_allow",
        "ip_deny" => "edge_ip_deny",
        "trusted_proxies" => "edge_trusted_proxies",
        "max_body_bytes" => "edge_max_body_bytes",
        "request_headers" => "edge_request_headers",
        "response_headers" => "edge_response_headers",
        _ => "edge_path_rewrite",
    })
}
