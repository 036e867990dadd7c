//! Scratch stores for tests, here and in the crates above: a fresh SQLite file or a fresh
//! Postgres database, migrated, and removed when dropped.

use super::Store;

/// The Postgres server tests create their databases on: `GATEHOUSE_TEST_POSTGRES_URL`.
pub fn postgres_base_url() -> String {
    std::env::var("GATEHOUSE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `url` with its database (the path) replaced by `database`, keeping any `?query`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let server = base[authority_start..]
        .find('/')
        .map_or(base, |slash| &base[..authority_start + slash]);
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

/// A migrated store that exists only as long as this value.
pub struct ScratchStore {
    pub store: Store,
    /// The URL it was opened with.
    pub url: String,
    place: Place,
}

enum Place {
    SqliteDir(std::path::PathBuf),
    PostgresDatabase { server_url: String, name: String },
}

impl ScratchStore {
    /// A fresh embedded SQLite store in its own directory.
    pub async fn sqlite() -> ScratchStore {
        let dir = std::env::temp_dir().join(format!("gatehouse-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        ScratchStore::open(Store::sqlite_url_in(&dir), Place::SqliteDir(dir)).await
    }

    /// A fresh database on the test Postgres server. Panics, saying what is needed, when the
    /// server does not answer.
    pub async fn postgres() -> ScratchStore {
        use sqlx::{Connection, Executor};
        let base = postgres_base_url();
        let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
        let mut connection = sqlx::PgConnection::connect(&base)
            .await
            .unwrap_or_else(|error| panic!("Postgres at {base} is needed for the Postgres half of the suite: {error}"));
        connection
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        connection.close().await.ok();
        let url = with_database(&base, &name);
        ScratchStore::open(url, Place::PostgresDatabase { server_url: base, name }).await
    }

    async fn open(url: String, place: Place) -> ScratchStore {
        let store = Store::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        ScratchStore { store, url, place }
    }

    /// The SQLite directory, if this is one.
    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        match &self.place {
            Place::SqliteDir(dir) => Some(dir),
            Place::PostgresDatabase { .. } => None,
        }
    }
}

impl Drop for ScratchStore {
    /// Removes the store, ignoring errors: a leftover is untidy, not a failure (`scripts/test`
    /// sweeps up Postgres databases that killed runs left behind).
    fn drop(&mut self) {
        match &self.place {
            Place::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Place::PostgresDatabase { server_url, name } => {
                // Drop runs inside the test's runtime, which cannot be blocked on; so the database
                // is dropped from a thread of its own, with its own small runtime. FORCE ends the
                // connections the store's pool still holds.
                let (server_url, name) = (server_url.clone(), name.clone());
                let dropping = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                    let Ok(runtime) = runtime else { return };
                    runtime.block_on(async {
                        use sqlx::{Connection, Executor};
                        if let Ok(mut connection) = sqlx::PgConnection::connect(&server_url).await {
                            let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = connection.execute(statement.as_str()).await;
                            let _ = connection.close().await;
                        }
                    });
                });
                let _ = dropping.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_database() {
        for (url, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgres://u:p@db/test?sslmode=disable",
                "postgres://u:p@db/x?sslmode=disable",
            ),
            ("postgresql://u@db:5432", "postgresql://u@db:5432/x"),
        ] {
            assert_eq!(with_database(url, "x"), expected, "{url}");
        }
    }
}
