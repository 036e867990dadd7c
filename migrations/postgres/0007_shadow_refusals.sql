-- What shadowed access policies and plans would have refused, as the gateways report it with their
-- usage (`POST /api/v1/gateway/usage`, `shadow_refusals`): requests per minute, rule and user. Rows
-- are only appended, summed when read (the dashboard's and the impact report's "would have
-- refused alice 15 times in the last hour"), and deleted with the usage past its retention.
CREATE TABLE shadow_refusals (
    bucket_start  BIGINT NOT NULL,
    gateway       TEXT NOT NULL,
    rule_kind     TEXT NOT NULL,
    rule          TEXT NOT NULL,
    user_name     TEXT,
    requests      BIGINT NOT NULL
);
CREATE INDEX shadow_refusals_rule ON shadow_refusals (rule_kind, rule, bucket_start);
CREATE INDEX shadow_refusals_time ON shadow_refusals (bucket_start);
