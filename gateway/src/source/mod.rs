//! Where snapshots come from: a file (a standalone gateway, reloaded when the file changes), the
//! hub's stream (`hub`), and the last good snapshot, kept on disk so a gateway restarts from it
//! when its source is away.

pub mod backoff;
pub mod hub;
mod sse;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::runtime::Runtime;
use crate::snapshot::SnapshotError;

/// Why a snapshot could not be taken from a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: String, source: SnapshotError },
    #[error("{path}: {source}")]
    Apply {
        path: String,
        source: crate::runtime::ApplyError,
    },
}

/// The last snapshot applied, kept at `<data dir>/last-good-snapshot.json`.
#[derive(Debug, Clone)]
pub struct LastGood {
    path: PathBuf,
}

impl LastGood {
    pub fn in_dir(data_dir: &Path) -> LastGood {
        LastGood {
            path: data_dir.join("last-good-snapshot.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a snapshot document as it was received, atomically (a temporary file renamed
    /// over the old one), so a crash mid-write never leaves a torn file.
    pub fn save(&self, document: &[u8]) -> std::io::Result<()> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, document)?;
        std::fs::rename(&temporary, &self.path)
    }
}

/// Applies the snapshot in `path` and keeps it, as read, as the last good one.
pub fn apply_file(runtime: &Runtime, path: &Path, last_good: Option<&LastGood>) -> Result<Duration, SourceError> {
    let document = bytes::Bytes::from(std::fs::read(path).map_err(|source| SourceError::Read {
        path: path.display().to_string(),
        source,
    })?);
    let took = runtime
        .apply_document(document, last_good)
        .map_err(|source| match source {
            crate::runtime::ApplyError::Malformed(source) => SourceError::Parse {
                path: path.display().to_string(),
                source,
            },
            source => SourceError::Apply {
                path: path.display().to_string(),
                source,
            },
        })?;
    Ok(took)
}

/// At start: the source file if it applies, else the last good snapshot, else nothing (the
/// gateway then serves 404s and is not ready).
pub fn start(runtime: &Runtime, file: Option<&Path>, last_good: Option<&LastGood>) {
    if let Some(file) = file {
        match apply_file(runtime, file, last_good) {
            Ok(took) => {
                tracing::info!(path = %file.display(), revision = runtime.current().compiled.revision, ?took, "snapshot applied");
                return;
            }
            Err(error) => tracing::error!(%error, "the snapshot source failed; trying the last good snapshot"),
        }
    }
    if let Some(last_good) = last_good.filter(|last_good| last_good.path.exists()) {
        // Passed as its own last good copy, so that a large document is not held in memory too.
        match apply_file(runtime, &last_good.path.clone(), Some(last_good)) {
            Ok(_) => {
                tracing::info!(path = %last_good.path.display(), revision = runtime.current().compiled.revision, "started from the last good snapshot")
            }
            Err(error) => tracing::error!(%error, "the last good snapshot could not be applied either"),
        }
    }
}

/// Re-applies `path` whenever its modification time or size changes, until `shutdown`. An
/// invalid file is logged and counted, and the running snapshot stays.
pub async fn watch_file(runtime: Arc<Runtime>, path: PathBuf, last_good: Option<LastGood>, interval: Duration) {
    let mut seen = fingerprint(&path);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = fingerprint(&path);
        if now == seen || now.is_none() {
            continue;
        }
        seen = now;
        // Parsing and compiling a large snapshot takes a while: off the request workers.
        let (worker_runtime, worker_path, worker_last_good) = (runtime.clone(), path.clone(), last_good.clone());
        let applied =
            tokio::task::spawn_blocking(move || apply_file(&worker_runtime, &worker_path, worker_last_good.as_ref()))
                .await
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()));
        match applied {
            Ok(took) => {
                tracing::info!(path = %path.display(), revision = runtime.current().compiled.revision, ?took, "snapshot reloaded")
            }
            Err(error) => tracing::error!(%error, "snapshot refused; the running one stays"),
        }
    }
}

fn fingerprint(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}
