-- The developer portal's sessions: tower-sessions records, kept in the hub's database so that
-- any portal replica serves any signed-in user.
CREATE TABLE portal_sessions (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);

-- Failed password sign-ins per account name, for the backoff; a success clears the row.
-- Not audited, and kept apart from `objects`: it changes on every failed attempt.
CREATE TABLE sign_in_failures (
    account       TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL
);

-- One-time links that set a user's password: an invitation, or a reset an admin issued.
-- Only the token's hash is kept; the link dies with its user.
CREATE TABLE password_links (
    token_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL DEFAULT 'user',
    user_name   TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    FOREIGN KEY (kind, user_name) REFERENCES objects (kind, object_key) ON DELETE CASCADE
);
CREATE INDEX password_links_user ON password_links (kind, user_name);
