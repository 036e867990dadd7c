-- Usage summaries the gateways send (`POST /api/v1/gateway/usage`): requests per minute, API,
-- version, user, application, API key and status class, with a latency histogram. Rows are only
-- appended, and summed when read. Minute rows (`bucket_seconds` 60) older than the rollup age are
-- merged into hour rows (3600); rows older than the retention are deleted. Not audited, and kept
-- apart from `objects`: gateways write it every minute.
CREATE TABLE usage_summaries (
    bucket_start        BIGINT NOT NULL,
    bucket_seconds      BIGINT NOT NULL,
    gateway             TEXT NOT NULL,
    api                 TEXT NOT NULL,
    version             TEXT,
    user_name           TEXT,
    application         TEXT,
    api_key             TEXT,
    status_class        TEXT NOT NULL,
    requests            BIGINT NOT NULL,
    latency_ms_buckets  TEXT NOT NULL
);
CREATE INDEX usage_summaries_time ON usage_summaries (bucket_start);
CREATE INDEX usage_summaries_api ON usage_summaries (api, bucket_start);
CREATE INDEX usage_summaries_user ON usage_summaries (user_name, bucket_start);
CREATE INDEX usage_summaries_application ON usage_summaries (application, bucket_start);
CREATE INDEX usage_summaries_api_key ON usage_summaries (api_key, bucket_start);
-- The rollup's work: minute rows only, so it never walks the hour rows.
CREATE INDEX usage_summaries_minutes ON usage_summaries (bucket_start) WHERE bucket_seconds = 60;
