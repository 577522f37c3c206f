-- How keys are used: verifications counted per key, per hour (bucket_seconds
-- 3600) and per day (86400), by outcome code (VALID, FORBIDDEN, RATE_LIMITED,
-- ...). app_id 0 counts the requests with no key keyward knows (missing,
-- malformed or unknown), app_id -1 every request. Every instance adds what
-- it counted; src/usage.rs writes and prunes these rows.
CREATE TABLE usage_counts (
    app_id INTEGER NOT NULL,
    bucket_seconds INTEGER NOT NULL,
    bucket_start BIGINT NOT NULL,
    code TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (app_id, bucket_seconds, bucket_start, code)
);
-- Retention and the dashboard's rankings read by time across keys. (Not a
-- covering index: SQLite would then prefer it to the primary key for one
-- key's series.)
CREATE INDEX usage_counts_by_time ON usage_counts (bucket_seconds, bucket_start);
