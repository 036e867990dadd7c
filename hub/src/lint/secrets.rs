//! Secrets written in plain text (`plain-secret`), in every file of the set, manifests and
//! OpenAPI documents alike, comments included: a secret in a repository is leaked whatever
//! reads it.
//!
//! Three kinds are found, at most one per line, and the finding never repeats the value:
//! - a Gatehouse secret by its marker (`ghk_`, `ghat_`, `ghgw_`, `ghpl_`) followed by at least 20
//!   letters and digits (a key's six-letter visible prefix, `ghk_Xa81Qe`, is not a secret);
//! - a URL with a password (`https://user:password@host`);
//! - outside comments, a field whose name ends in `password`, `passwd`, `passphrase`, `secret`,
//!   `token` or `api_key` (`client_secret`, `apiKey`, `x-api-key`; not `tokenUrl` or
//!   `api_key_header`) holding a literal value. Placeholders are not secrets: `<password>`,
//!   `${TOKEN}`, `{{ token }}`, and values of only `*`, `x` or `.`.

use super::{Finding, finding};
use crate::domain::{admin_tokens, api_keys, fleet, sign_in};
use crate::manifest::{Location, ManifestSet};

/// Fewest letters and digits after a marker for a value to be taken for a whole secret.
const MIN_SECRET_CHARS: usize = 20;

/// Finds `plain-secret`; returns the secrets found, for scrubbing them from other findings.
pub(super) fn check(set: &ManifestSet, findings: &mut Vec<Finding>) -> Vec<String> {
    let mut secrets = Vec::new();
    for file in &set.files {
        for (number, line) in file.text.lines().enumerate() {
            let Some(found) = marked_secret(line)
                .or_else(|| url_password(line))
                .or_else(|| secret_field(line))
            else {
                continue;
            };
            secrets.push(line[found.start..found.end].to_owned());
            findings.push(finding(
                "plain-secret",
                Location {
                    file: file.path.clone(),
                    line: number + 1,
                    column: line[..found.start].chars().count() + 1,
                },
                found.message,
            ));
        }
    }
    secrets
}

/// A secret in a line: its byte range, and what it is.
struct Found {
    start: usize,
    end: usize,
    message: String,
}

/// A Gatehouse secret: where it starts, and what it is.
fn marked_secret(line: &str) -> Option<Found> {
    let markers = [
        (api_keys::KEY_MARKER, "API key"),
        (admin_tokens::TOKEN_MARKER, "admin token"),
        (fleet::TOKEN_MARKER, "gateway token"),
        (sign_in::LINK_MARKER, "password link"),
    ];
    markers
        .into_iter()
        .filter_map(|(marker, what)| {
            let prefix = format!("{marker}_");
            line.match_indices(&prefix).find_map(|(start, _)| {
                let boundary = !line[..start].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
                let random = line[start + prefix.len()..]
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .count();
                (boundary && random >= MIN_SECRET_CHARS).then(|| Found {
                    start,
                    end: start + prefix.len() + random,
                    message: format!("a Gatehouse {what} (`{marker}_…`) is written in plain text"),
                })
            })
        })
        .min_by_key(|found| found.start)
}

/// A URL's password: where it starts.
fn url_password(line: &str) -> Option<Found> {
    line.match_indices("://").find_map(|(start, _)| {
        let authority_start = start + 3;
        let rest = &line[authority_start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || "/?#\"'`,]})>".contains(c))
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        let (userinfo, _) = authority.rsplit_once('@')?;
        let (_, password) = userinfo.split_once(':')?;
        if password.is_empty() || is_placeholder(password) {
            return None;
        }
        let end = authority_start + userinfo.len();
        Some(Found {
            start: end - password.len(),
            end,
            message: "a URL with a password (`user:…@host`) is written in plain text".to_owned(),
        })
    })
}

/// A field named like a secret with a literal value: where the value starts.
fn secret_field(line: &str) -> Option<Found> {
    if line.trim_start().starts_with('#') {
        return None;
    }
    line.match_indices(':').find_map(|(colon, _)| {
        let (key, quoted) = key_before(line, colon)?;
        let after = &line[colon + 1..];
        // YAML needs a space after a plain key's colon; `http://` is not a key.
        if !(quoted || after.is_empty() || after.starts_with([' ', '\t'])) {
            return None;
        }
        if !names_a_secret(key) {
            return None;
        }
        let value_start = colon + 1 + (after.len() - after.trim_start().len());
        let (value_start, value) = literal_value(line, value_start)?;
        if value.is_empty() || is_placeholder(value) {
            return None;
        }
        Some(Found {
            start: value_start,
            end: value_start + value.len(),
            message: format!("`{key}` has a literal value: a secret is written in plain text"),
        })
    })
}

/// The key that ends just before `colon`, and whether it was quoted.
fn key_before(line: &str, colon: usize) -> Option<(&str, bool)> {
    let before = &line[..colon];
    if let Some(quote) = before.chars().last().filter(|c| *c == '"' || *c == '\'') {
        let inner = &before[..before.len() - 1];
        let open = inner.rfind(quote)?;
        return Some((&inner[open + 1..], true));
    }
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |index| index + 1);
    let key = &before[start..];
    let lead = before[..start].trim_end();
    let at_key_position = lead.is_empty() || lead.ends_with(['{', ',', '-']);
    (!key.is_empty() && at_key_position).then_some((key, false))
}

/// Whether a field's name says it holds a secret: its last word is one.
fn names_a_secret(key: &str) -> bool {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if matches!(c, '_' | '-' | '.' | ' ') {
            words.push(std::mem::take(&mut word));
            previous_lower = false;
            continue;
        }
        // camelCase: `apiKey` is `api`, `key`.
        if c.is_ascii_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    words.push(word);
    words.retain(|word| !word.is_empty());
    match words.as_slice() {
        [.., last] if ["password", "passwd", "passphrase", "secret", "token", "apikey"].contains(&last.as_str()) => {
            true
        }
        [.., api, key] => api == "api" && key == "key",
        _ => false,
    }
}

/// The scalar written at `start`: its first character's position and its text, `None` when
/// what is there is a mapping, a list, a block, an alias or a tag (not a literal value here).
fn literal_value(line: &str, start: usize) -> Option<(usize, &str)> {
    let rest = &line[start..];
    let first = rest.chars().next()?;
    if "{[|>&*!#".contains(first) {
        return None;
    }
    if first == '"' || first == '\'' {
        let inner = &rest[1..];
        let end = inner.find(first).unwrap_or(inner.len());
        return Some((start + 1, &inner[..end]));
    }
    let end = rest
        .find([',', '}', ']'])
        .into_iter()
        .chain(rest.find(" #"))
        .min()
        .unwrap_or(rest.len());
    let value = rest[..end].trim_end();
    if ["null", "~", "true", "false"].contains(&value) {
        return None;
    }
    Some((start, value))
}

/// `<password>`, `${TOKEN}`, `{{ token }}`, `***`, `xxxx`, `...`: a stand-in, not a secret.
fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    (value.starts_with('<') && value.ends_with('>'))
        || value.starts_with("${")
        || value.starts_with("{{")
        || value.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '…'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Option<(usize, &str)> {
        marked_secret(line)
            .or_else(|| url_password(line))
            .or_else(|| secret_field(line))
            .map(|found| (found.start, &line[found.start..found.end]))
    }

    #[test]
    fn finds_secrets_where_they_start() {
        let key = format!("ghk_{}", "a1".repeat(20));
        let cases: Vec<(String, usize, &str)> = vec![
            (format!("description: use {key} to try"), 17, &key),
            (format!("# old key: {key}"), 11, &key),
            ("url: 'https://bob:hunter2@example.com/x'".into(), 18, "hunter2"),
            ("  password: hunter2".into(), 12, "hunter2"),
            ("- client_secret: \"s3cr3t\"".into(), 18, "s3cr3t"),
            (r#"{"apiKey": "abc123"}"#.into(), 12, "abc123"),
            ("  x-api-key: abc123 # for tests".into(), 13, "abc123"),
            ("{ user: bob, token: abc }".into(), 20, "abc"),
        ];
        for (line, start, secret) in cases {
            assert_eq!(found(&line), Some((start, secret)), "{line}");
        }
    }

    #[test]
    fn leaves_what_is_not_a_secret() {
        for line in [
            "description: keys look like ghk_Xa81Qe",
            "url: https://example.com:8443/pets",
            "url: https://bob@example.com",
            "tokenUrl: https://id.example.com/token",
            "api_key_header: x-api-key",
            "password: <password>",
            "token: ${GATEHOUSE_TOKEN}",
            "secret: '***'",
            "password:",
            "token: null",
            "# password: comes from the environment",
            "securitySchemes: { api_key: { type: apiKey, in: header, name: x-api-key } }",
            "  password:",
            "    type: string",
        ] {
            assert_eq!(found(line), None, "{line}");
        }
    }
}
