CREATE TABLE usage_counts_rowid (
    app_id INTEGER NOT NULL,
    bucket_seconds INTEGER NOT NULL,
    bucket_start BIGINT NOT NULL,
    code TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (app_id, bucket_seconds, bucket_start, code)
);
INSERT INTO usage_counts_rowid (app_id, bucket_seconds, bucket_start, code, count)
    SELECT app_id, bucket_seconds, bucket_start, code, count FROM usage_counts;
DROP TABLE usage_counts;
ALTER TABLE usage_counts_rowid RENAME TO usage_counts;
CREATE INDEX usage_counts_by_time ON usage_counts (bucket_seconds, bucket_start);
