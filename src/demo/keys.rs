//! The demo's keys file: one `user=key` line per user, written by `demo seed` and read by
//! `demo traffic`. An env file's `USER_KEY=key` lines (docker-compose's demo-keys.env) read the same.

use std::path::Path;

/// The `(user, key)` pairs of a keys file's text, in order. Blank lines and `#` comments are
/// skipped; `export ` and quotes around the key are allowed; `ALICE_KEY=…` names the user `alice`.
/// A line that is none of these is an error naming its number.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut keys = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((user, key)) = line.split_once('=') else {
            return Err(format!("line {}: expected user=key", index + 1));
        };
        let user = user.trim();
        let user = user
            .strip_suffix("_KEY")
            .map_or_else(|| user.to_owned(), str::to_lowercase);
        let key = key.trim().trim_matches(|quote| quote == '"' || quote == '\'');
        if user.is_empty() || key.is_empty() {
            return Err(format!("line {}: expected user=key", index + 1));
        }
        keys.push((user, key.to_owned()));
    }
    Ok(keys)
}

/// Writes `keys` as `user=key` lines, readable by the owner only (they are credentials).
pub fn write(path: &Path, keys: &[(String, String)]) -> std::io::Result<()> {
    let mut text =
        String::from("# gatehouse demo seed: one API key per demo user; `gatehouse demo traffic` reads it\n");
    for (user, key) in keys {
        text.push_str(&format!("{user}={key}\n"));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

#[cfg(test)]
mod tests;
