-- Change events (`GET /api/v1/events`) and their annotations in Grafana.
--
-- A revision records what made it, so an event says `rollback` without reading the message
-- (which an admin may write freely): `publish` for a publish, `rollback` with the revision whose
-- content it published again. Revisions recorded before this migration count as publishes.
ALTER TABLE revisions ADD COLUMN kind TEXT NOT NULL DEFAULT 'publish' CHECK (kind IN ('publish', 'rollback'));
ALTER TABLE revisions ADD COLUMN rolled_back_to BIGINT;

-- How far each annotation sink (only `grafana` today) has got: the last revision posted, and the
-- hub replica that holds the right to post the next one until `held_until` (Unix ms), so that
-- with several replicas each revision is posted once. Failed posts are counted here, for every
-- replica to see.
CREATE TABLE annotation_cursors (
    sink            TEXT PRIMARY KEY,
    last_revision   BIGINT NOT NULL,
    holder          TEXT,
    held_until      BIGINT NOT NULL DEFAULT 0,
    failures        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_error_at   BIGINT
);
