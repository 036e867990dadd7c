//! Change annotations: each published revision posted to Grafana's annotations HTTP API
//! (`POST {url}/api/annotations`, a service-account token as bearer), tagged `gatehouse`,
//! `publish` or `rollback`, and `revision:N`, so that any dashboard can mark the change on its
//! time series. Which revisions exist, and what each says, is `domain::events`' business.
//!
//! A background task follows the revision feed and posts the revisions after the sink's cursor
//! in the store, one at a time, oldest first. Publishing never waits on it: a post that fails is
//! logged, counted in the cursor's row, and retried with backoff, the revisions after it waiting
//! their turn. With several hub replicas, the one holding the cursor's lease (taken by one
//! conditional UPDATE, renewed with each post) posts, so each revision is posted once; only a
//! replica that dies between Grafana's answer and moving the cursor can cause a second post,
//! after its lease runs out.

use std::time::Duration;

use chrono::Utc;
use gateway::source::backoff::Backoff;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::RevisionFeed;
use crate::domain::events::Event;
use crate::store::{AnnotationClaim, AnnotationCursorRow, Store, StoreError};

/// The cursor's name in the store.
pub const SINK: &str = "grafana";
/// How long a replica may post without renewing its claim; longer than a post can take.
pub const LEASE: Duration = Duration::from_secs(30);
/// The longest a post may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The first retry's delay (before jitter); each failure doubles it, up to [`RETRY_MAX`].
pub const RETRY_MIN: Duration = Duration::from_secs(1);
/// The longest delay between retries (before jitter).
pub const RETRY_MAX: Duration = Duration::from_secs(300);
/// How long shutdown waits for a post in flight before giving it up (it is posted again later).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Where annotations go: a Grafana and its service-account token.
#[derive(Clone)]
pub struct Grafana {
    url: String,
    token: String,
}

impl Grafana {
    /// Grafana at `url` (its root, e.g. `https://grafana.example.com`), with `token`.
    pub fn new(url: &str, token: &str) -> Grafana {
        Grafana {
            url: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// The annotations endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}/api/annotations", self.url)
    }
}

// Written by hand so that the token never reaches a log line.
impl std::fmt::Debug for Grafana {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grafana")
            .field("url", &self.url)
            .field("token", &"***")
            .finish()
    }
}

/// The body of Grafana's `POST /api/annotations`: an organization annotation (no dashboard or
/// panel), at one point in time, shown on every dashboard whose annotation query asks for its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// Epoch milliseconds.
    pub time: i64,
    pub tags: Vec<String>,
    pub text: String,
}

impl Annotation {
    /// The annotation of one event: `<message> — revision N by <author> (commit abc1234)`.
    pub fn of(event: &Event) -> Annotation {
        let mut text = String::new();
        if !event.message.is_empty() {
            text.push_str(&event.message);
            text.push_str(" — ");
        }
        text.push_str(&format!("revision {} by {}", event.revision, event.author));
        if let Some(commit) = &event.source_commit {
            // Git's default abbreviation: enough to find the commit, short enough for a tooltip.
            let short: String = commit.chars().take(7).collect();
            text.push_str(&format!(" (commit {short})"));
        }
        Annotation {
            time: event.time.timestamp_millis(),
            tags: vec![
                "gatehouse".to_owned(),
                event.kind.as_str().to_owned(),
                format!("revision:{}", event.revision),
            ],
            text,
        }
    }
}

/// The running poster.
#[derive(Debug)]
pub struct Annotator {
    task: JoinHandle<()>,
}

/// Why the poster could not start.
#[derive(Debug, thiserror::Error)]
pub enum AnnotatorError {
    /// The HTTP client (its TLS backend) could not be set up.
    #[error("cannot set up the client for Grafana: {0}")]
    Client(#[source] reqwest::Error),
}

impl Annotator {
    /// Starts posting the revisions published from now on (and any a previous run left), until
    /// `feed` closes. On first use the sink's cursor starts at the latest revision, so turning
    /// annotations on does not post the whole history.
    pub async fn start(store: Store, feed: &RevisionFeed, grafana: Grafana) -> Result<Annotator, AnnotatorError> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // A redirected POST turns into a GET; a misconfigured URL should fail, and say so.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(AnnotatorError::Client)?;
        let mut poster = Poster {
            store,
            grafana,
            client,
            holder: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4()),
            backoff: Backoff::new(RETRY_MIN, RETRY_MAX),
            cursor_ready: false,
        };
        // Before the first publish this hub serves, so that one is annotated.
        if let Err(error) = poster.ensure_cursor().await {
            tracing::warn!(%error, "cannot set up the annotation cursor; retrying");
        }
        let latest = feed.subscribe();
        let closed = feed.closed();
        Ok(Annotator {
            task: tokio::spawn(poster.run(latest, closed)),
        })
    }

    /// Waits for the poster to stop after the feed closed (a post in flight gets
    /// [`SHUTDOWN_GRACE`] to finish), then ends it.
    pub async fn stop(mut self) {
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

/// How far annotations have got: for operators and tests.
pub async fn status(store: &Store) -> Result<Option<AnnotationCursorRow>, StoreError> {
    let mut tx = store.begin().await?;
    let cursor = tx.annotation_cursor(SINK).await?;
    tx.commit().await?;
    Ok(cursor)
}

struct Poster {
    store: Store,
    grafana: Grafana,
    client: reqwest::Client,
    /// This replica's name in the lease.
    holder: String,
    backoff: Backoff,
    cursor_ready: bool,
}

/// What one step did.
enum Step {
    /// Posted (or skipped) one revision; there may be more.
    Posted,
    /// Nothing left to post.
    Idle,
    /// Another replica posts; it holds the lease until this time (Unix ms).
    HeldElsewhere { until: i64 },
}

/// Why a step failed: to be retried after a backoff.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    #[error("revision {revision}: {message}")]
    Post { revision: i64, message: String },
}

/// How Grafana took a post.
enum Posted {
    Accepted,
    /// Refused as malformed: posting it again would not help.
    Refused(String),
    /// Failed in a way that may pass: unreachable, overloaded, or the token not (yet) allowed.
    Later(String),
}

impl Poster {
    async fn run(mut self, mut latest: watch::Receiver<i64>, closed: impl std::future::Future<Output = ()>) {
        tokio::pin!(closed);
        loop {
            latest.borrow_and_update();
            let (wait, or_on_publish) = match self.step().await {
                Ok(Step::Posted) => {
                    self.backoff.reset();
                    continue;
                }
                Ok(Step::Idle) => {
                    self.backoff.reset();
                    // The feed wakes this; the timer is for a revision it could not tell of.
                    (LEASE, true)
                }
                Ok(Step::HeldElsewhere { until }) => {
                    let left = u64::try_from(until - Utc::now().timestamp_millis()).unwrap_or(0);
                    (
                        Duration::from_millis(left).min(LEASE) + Duration::from_millis(100),
                        true,
                    )
                }
                Err(failure) => {
                    let delay = self.backoff.next_delay();
                    tracing::warn!(%failure, retry_in_ms = delay.as_millis() as u64, "cannot post the change annotation");
                    (delay, false)
                }
            };
            tokio::select! {
                () = &mut closed => return,
                () = tokio::time::sleep(wait) => {}
                changed = latest.changed(), if or_on_publish => if changed.is_err() { return },
            }
        }
    }

    async fn ensure_cursor(&mut self) -> Result<(), StoreError> {
        if self.cursor_ready {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        let latest = tx
            .list_revisions(None, 1)
            .await?
            .first()
            .map_or(0, |revision| revision.number);
        tx.ensure_annotation_cursor(SINK, latest).await?;
        tx.commit().await?;
        self.cursor_ready = true;
        Ok(())
    }

    /// Claims the lease and posts the revision after the cursor, if there is one.
    async fn step(&mut self) -> Result<Step, Failure> {
        self.ensure_cursor().await?;
        let now = Utc::now().timestamp_millis();
        let mut tx = self.store.begin().await?;
        let last = match tx
            .claim_annotation_cursor(SINK, &self.holder, now, now + LEASE.as_millis() as i64)
            .await?
        {
            AnnotationClaim::Held { last_revision } => last_revision,
            AnnotationClaim::HeldElsewhere { until } => {
                tx.commit().await?;
                return Ok(Step::HeldElsewhere { until });
            }
        };
        let Some(revision) = tx.next_revision_after(last).await? else {
            tx.release_annotation_cursor(SINK, &self.holder).await?;
            tx.commit().await?;
            return Ok(Step::Idle);
        };
        tx.commit().await?;
        let event = Event::from(revision);
        let posted = self.post(&Annotation::of(&event)).await;
        let answered_at = Utc::now().timestamp_millis();
        let failure = match &posted {
            Posted::Accepted => None,
            Posted::Refused(message) | Posted::Later(message) => Some(message.clone()),
        };
        let mut tx = self.store.begin().await?;
        if let Some(message) = &failure {
            tx.record_annotation_failure(SINK, &format!("revision {}: {message}", event.revision), answered_at)
                .await?;
        }
        if let Posted::Later(message) = posted {
            tx.commit().await?;
            return Err(Failure::Post {
                revision: event.revision,
                message,
            });
        }
        let now = Utc::now().timestamp_millis();
        let moved = tx
            .advance_annotation_cursor(SINK, &self.holder, last, event.revision, now + LEASE.as_millis() as i64)
            .await?;
        tx.commit().await?;
        match (failure, moved) {
            (Some(message), _) => tracing::error!(
                revision = event.revision,
                %message,
                "Grafana refused the change annotation; it is skipped"
            ),
            (None, true) => tracing::info!(revision = event.revision, "change annotation posted"),
            (None, false) => tracing::warn!(
                revision = event.revision,
                "the annotation lease ran out during the post; another replica may post this revision again"
            ),
        }
        Ok(Step::Posted)
    }

    async fn post(&self, annotation: &Annotation) -> Posted {
        let response = self
            .client
            .post(self.grafana.endpoint())
            .bearer_auth(&self.grafana.token)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(annotation)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            // reqwest's message names the URL, never the token.
            Err(error) => return Posted::Later(format!("cannot reach Grafana: {error}")),
        };
        let status = response.status();
        if status.is_success() {
            return Posted::Accepted;
        }
        let body = response.text().await.unwrap_or_default();
        let message = format!(
            "Grafana answered {status}: {}",
            body.chars().take(200).collect::<String>()
        );
        match status.as_u16() {
            400 | 413 | 422 => Posted::Refused(message),
            _ => Posted::Later(message),
        }
    }
}

#[cfg(test)]
mod tests;
