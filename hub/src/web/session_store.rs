//! The session store: tower-sessions records kept in the hub's database (`portal_sessions`),
//! so that every portal and hub replica serves every signed-in user (the dashboard's sessions
//! share the table, under another cookie and another session key).

use crate::store::{Store, StoreError};
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// Sessions in the hub's store.
#[derive(Clone, Debug)]
pub struct HubSessionStore {
    store: Store,
}

impl HubSessionStore {
    pub fn new(store: Store) -> Self {
        HubSessionStore { store }
    }

    /// Deletes expired sessions; the portal and the hub call it now and then.
    pub async fn delete_expired(&self) -> Result<u64, StoreError> {
        let mut tx = self.store.begin().await?;
        let deleted = tx.delete_expired_sessions(now()).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn backend(error: StoreError) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|error| session_store::Error::Encode(error.to_string()))
}

#[async_trait]
impl SessionStore for HubSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        // A 128-bit random id colliding is next to impossible, but a store must not overwrite.
        loop {
            let mut tx = self.store.begin().await.map_err(backend)?;
            let id = record.id.to_string();
            match tx.insert_session(&id, &data, record.expiry_date.unix_timestamp()).await {
                Ok(()) => return tx.commit().await.map_err(backend),
                Err(StoreError::UniqueViolation) => record.id = Id::default(),
                Err(error) => return Err(backend(error)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let mut tx = self.store.begin().await.map_err(backend)?;
        tx.update_session(&record.id.to_string(), &data, record.expiry_date.unix_timestamp())
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut tx = self.store.begin().await.map_err(backend)?;
        let row = tx.session(&id.to_string(), now()).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|error| session_store::Error::Decode(error.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires_at)
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut tx = self.store.begin().await.map_err(backend)?;
        tx.delete_session(&id.to_string()).await.map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}
