-- Every managed object (APIs, versions, users, groups, plans, access policies, applications,
-- API keys, gateways, admin tokens) is a row of `objects`: its kind, its key and its JSON spec.
-- The relations between them live in real tables with real foreign keys, so the database
-- itself refuses a dangling reference or a duplicate claim, whatever the code above does.
CREATE TABLE objects (
    kind        TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    spec        TEXT NOT NULL,
    search      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (kind, object_key)
);

CREATE TABLE object_references (
    kind             TEXT NOT NULL,
    object_key       TEXT NOT NULL,
    field            TEXT NOT NULL,
    target_kind      TEXT NOT NULL,
    target_key       TEXT NOT NULL,
    owned_by_target  BIGINT NOT NULL,
    PRIMARY KEY (kind, object_key, field),
    FOREIGN KEY (kind, object_key) REFERENCES objects (kind, object_key) ON DELETE CASCADE,
    FOREIGN KEY (target_kind, target_key) REFERENCES objects (kind, object_key)
);
CREATE INDEX object_references_target ON object_references (target_kind, target_key);

CREATE TABLE object_labels (
    kind        TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    label       TEXT NOT NULL,
    PRIMARY KEY (kind, object_key, label),
    FOREIGN KEY (kind, object_key) REFERENCES objects (kind, object_key) ON DELETE CASCADE
);
CREATE INDEX object_labels_label ON object_labels (kind, label);

CREATE TABLE unique_claims (
    scope       TEXT NOT NULL,
    value       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    PRIMARY KEY (scope, value),
    FOREIGN KEY (kind, object_key) REFERENCES objects (kind, object_key) ON DELETE CASCADE
);
CREATE INDEX unique_claims_owner ON unique_claims (kind, object_key);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    before_state  TEXT,
    after_state   TEXT
);
CREATE INDEX audit_log_object ON audit_log (kind, object_key);

CREATE TABLE revisions (
    number         BIGINT PRIMARY KEY,
    content_hash   TEXT NOT NULL,
    author         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    message        TEXT NOT NULL,
    source_commit  TEXT,
    snapshot       TEXT NOT NULL
);
