-- What each gateway last reported: not audited (it changes every few seconds) and not part of
-- any revision. Kept apart from `objects` for that reason.
CREATE TABLE gateway_status (
    gateway              TEXT PRIMARY KEY,
    instance             TEXT NOT NULL,
    version              TEXT NOT NULL,
    started_at           BIGINT NOT NULL,
    applied_revision     BIGINT,
    last_error_revision  BIGINT,
    last_error           TEXT,
    requests             BIGINT NOT NULL,
    refusals             BIGINT NOT NULL,
    last_seen            BIGINT NOT NULL
);
