-- Per-key limits. Rate limits are written as src/limits.rs stores them,
-- "LIMIT/WINDOW_SECONDS" comma-separated ("100/60,10000/86400"); NULL: none
-- (a key without its own inherits its role's). A quota is a total and when
-- it refills ('never', 'daily' or 'monthly'); NULL total: no quota.
ALTER TABLE apps ADD COLUMN rate_limits TEXT;
ALTER TABLE apps ADD COLUMN quota_total BIGINT;
ALTER TABLE apps ADD COLUMN quota_refill TEXT;
ALTER TABLE roles ADD COLUMN rate_limits TEXT;

-- What the keys have spent: one row per key, window length and window
-- (its start in Unix seconds); window_seconds 0 is the quota, its window
-- the refill period's start (0 for a quota never refilled). Every instance
-- adds what it counted; pruned once a window is long past.
CREATE TABLE limit_counters (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    window_seconds INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (app_id, window_seconds, window_start)
);
