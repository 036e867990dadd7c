//! Certificates from a directory, for a standalone gateway (`--tls-cert-dir`): each `NAME.crt`
//! with its `NAME.key`, both PEM. The directory is read at start and again whenever a file's
//! size or modification time changes; a pair that fails to load keeps its previous version
//! (with a warning), so a half-copied renewal never takes a host's certificate away.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use super::{CertificateTable, LoadedCertificate, TlsError, load_pair};

/// What the directory looked like: each file's name, size and modification time.
type Stamp = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// Loads every pair of `dir`; a pair that fails is an error naming its file.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedCertificate>, TlsError> {
    let (certificates, problems) = read_dir(dir, &[]);
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(certificates),
    }
}

/// Reads the pairs of `dir`, keeping `previous`'s version of any that fails.
fn read_dir(dir: &Path, previous: &[LoadedCertificate]) -> (Vec<LoadedCertificate>, Vec<TlsError>) {
    let field = dir.display().to_string();
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                name.strip_suffix(".crt").map(str::to_owned)
            })
            .collect(),
        Err(error) => return (previous.to_vec(), vec![TlsError::new(field, error.to_string())]),
    };
    names.sort();
    let mut certificates = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        let read = |extension: &str| {
            let path = dir.join(format!("{name}.{extension}"));
            std::fs::read_to_string(&path).map_err(|error| TlsError::new(path.display().to_string(), error.to_string()))
        };
        let loaded = read("crt").and_then(|chain| {
            let key = read("key")?;
            load_pair(&name, &chain, &key).map_err(|error| {
                TlsError::new(
                    dir.join(format!(
                        "{name}.{}",
                        if error.field == "key_pem" { "key" } else { "crt" }
                    ))
                    .display()
                    .to_string(),
                    error.message,
                )
            })
        });
        match loaded {
            Ok(certificate) => certificates.push(certificate),
            Err(problem) => {
                certificates.extend(previous.iter().find(|known| known.name == name).cloned());
                problems.push(problem);
            }
        }
    }
    (certificates, problems)
}

fn stamp(dir: &Path) -> Stamp {
    let mut stamp: Stamp = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let metadata = entry.metadata().ok()?;
                    Some((entry.path(), metadata.len(), metadata.modified().ok()))
                })
                .collect()
        })
        .unwrap_or_default();
    stamp.sort();
    stamp
}

/// Loads `dir` into `files` now, then reloads it every `interval` when it changed. Returns the
/// first load's error (nothing is watched then).
pub fn watch_dir(
    dir: PathBuf,
    files: Arc<ArcSwap<CertificateTable>>,
    interval: Duration,
) -> Result<impl std::future::Future<Output = ()> + Send + 'static, TlsError> {
    let mut seen = stamp(&dir);
    files.store(Arc::new(CertificateTable::new(load_dir(&dir)?)));
    Ok(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = stamp(&dir);
            if now == seen {
                continue;
            }
            seen = now;
            let previous = files.load_full();
            let (certificates, problems) = read_dir(&dir, previous.certificates());
            for problem in &problems {
                tracing::warn!(%problem, "a certificate could not be loaded; its previous version stays");
            }
            tracing::info!(certificates = certificates.len(), dir = %dir.display(), "certificates reloaded");
            files.store(Arc::new(CertificateTable::new(certificates)));
        }
    })
}
