-- Back to every count in its day at once: the hours not rolled up yet are
-- added to their days.
INSERT INTO usage_counts (app_id, bucket_seconds, bucket_start, code, count)
    SELECT u.app_id, 86400, u.bucket_start - u.bucket_start % 86400, u.code,
           CAST(SUM(u.count) AS BIGINT)
    FROM usage_counts AS u, usage_rollup AS r
    WHERE u.bucket_seconds = 3600
      AND (u.bucket_start > r.hour OR (u.bucket_start = r.hour AND u.app_id >= r.app))
    GROUP BY u.app_id, u.bucket_start - u.bucket_start % 86400, u.code
ON CONFLICT (app_id, bucket_seconds, bucket_start, code)
DO UPDATE SET count = usage_counts.count + excluded.count;
DROP TABLE usage_rollup;
DROP INDEX usage_counts_by_time;
CREATE INDEX usage_counts_by_time ON usage_counts (bucket_seconds, bucket_start);
