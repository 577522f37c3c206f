-- How far hourly usage has been rolled up into its days: every hour before
-- `hour`, and `hour` itself for the apps before `app`. Verifications are
-- counted in their hour only (one row written per count, not two: with a
-- million keys in use most counts are rows of their own); keyward rolls
-- each hour into its day once the hour is over, a bounded chunk to a
-- transaction, and a day's count is its row plus its hours not rolled yet.
-- Counts that arrive for an hour already rolled go to its day as well.
-- Until now every count went to its day at once: every hour stored is
-- rolled already.
CREATE TABLE usage_rollup (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    hour BIGINT NOT NULL,
    app INTEGER NOT NULL
);
INSERT INTO usage_rollup (id, hour, app)
    SELECT 1, COALESCE(MAX(bucket_start) + 3600, 0), -2147483648
    FROM usage_counts WHERE bucket_seconds = 3600;
-- The roll-up walks an hour's rows in key order, a chunk at a time: the
-- index by time holds the key and code too (retention and the dashboard's
-- rankings read it as before).
DROP INDEX usage_counts_by_time;
CREATE INDEX usage_counts_by_time ON usage_counts (bucket_seconds, bucket_start, app_id, code);
