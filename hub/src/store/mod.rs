//! The store: the hub's state in Postgres (production) or embedded SQLite (the default), through
//! one set of queries over sqlx's `Any` driver. Columns keep to TEXT and BIGINT so both
//! backends decode alike. sqlx errors stop here: callers see [`StoreError`].

mod annotations;
mod audit;
mod fleet;
mod objects;
mod revisions;
pub mod scratch;
mod sessions;
mod shadow;
mod sign_in;
mod usage;

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor};

pub use annotations::{AnnotationClaim, AnnotationCursorRow};
pub use audit::{AuditFilter, NewAuditEntry};
pub use fleet::StatusRow;
pub use objects::{ClaimRow, ObjectRow, ReferenceRow};
pub use revisions::RevisionFilter;
pub use shadow::ShadowRefusalRow;
pub use sign_in::PasswordLinkRow;
pub use usage::{UsageColumn, UsageFilter, UsageRow};

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (a duplicate key or claim).
    #[error("a unique constraint refused the write")]
    UniqueViolation,
    /// A foreign key refused the write (a reference to nothing, or a delete of something in use).
    #[error("a reference constraint refused the write")]
    ForeignKeyViolation,
    /// A stored row could not be read back.
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The database URL names a backend the hub does not support.
    #[error("unsupported database URL `{0}`: use postgres:// or sqlite://")]
    UnsupportedUrl(String),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(database_error) = &error {
            match database_error.kind() {
                sqlx::error::ErrorKind::UniqueViolation => return StoreError::UniqueViolation,
                sqlx::error::ErrorKind::ForeignKeyViolation => return StoreError::ForeignKeyViolation,
                _ => {}
            }
        }
        StoreError::Database(error)
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A handle to the hub's database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// A transaction. Every operation, reads included, runs in one, so a multi-row change
/// commits whole or not at all.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    backend: Backend,
}

impl Store {
    /// Connects to `postgres://…` or `sqlite://…` (created if missing).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let options = AnyConnectOptions::from_str(url)?;
        // A connection's buffers grow to the largest message it carried (a 5 MB snapshot at
        // 10,000 APIs) and sqlx keeps them: 16 pooled connections would hold ~150 MB. Shrink
        // them back as each connection returns to the pool.
        let pool_options = AnyPoolOptions::new().after_release(|connection, _| {
            Box::pin(async move {
                sqlx::Connection::shrink_buffers(connection);
                Ok(true)
            })
        });
        let pool = match backend {
            Backend::Postgres => pool_options.max_connections(16).connect_with(options).await?,
            // One connection: SQLite serialises writers anyway, and a single connection avoids
            // the lock-upgrade deadlocks of concurrent deferred transactions.
            Backend::Sqlite => {
                pool_options
                    .max_connections(1)
                    .after_connect(|connection, _| {
                        Box::pin(async move {
                            connection.execute("PRAGMA foreign_keys = ON").await?;
                            connection.execute("PRAGMA journal_mode = WAL").await?;
                            connection.execute("PRAGMA busy_timeout = 5000").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Store { pool, backend })
    }

    /// The SQLite URL for the embedded database in a data directory.
    pub fn sqlite_url_in(data_dir: &Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("gatehouse.db").display())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Postgres => &POSTGRES_MIGRATIONS,
            Backend::Sqlite => &SQLITE_MIGRATIONS,
        }
    }

    /// Applies every migration not yet applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// Whether the database answers and the latest migration is applied.
    pub async fn is_ready(&self) -> Result<bool, StoreError> {
        let Some(latest) = self.migrator().iter().map(|migration| migration.version).max() else {
            return Ok(true);
        };
        let applied: Result<i64, sqlx::Error> =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = $1")
                .bind(latest)
                .fetch_one(&self.pool)
                .await;
        match applied {
            Ok(count) => Ok(count == 1),
            // No migrations table yet: reachable, not migrated.
            Err(sqlx::Error::Database(_)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Tx {
            inner: self.pool.begin().await?,
            backend: self.backend,
        })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Tx {
    /// Makes the transaction's changes permanent.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.inner.commit().await?;
        Ok(())
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Milliseconds since the Unix epoch, as stored.
pub(crate) fn to_millis(time: chrono::DateTime<chrono::Utc>) -> i64 {
    time.timestamp_millis()
}

pub(crate) fn from_millis(millis: i64) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    chrono::DateTime::from_timestamp_millis(millis).ok_or_else(|| StoreError::Corrupt(format!("timestamp {millis}")))
}
