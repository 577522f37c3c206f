-- The outgoing webhook's deliveries (src/webhooks/): one row per event for
-- the operator's URL, written once (dedup_key: the audit event or the expiry
-- it comes from, so several instances write it once), then attempted with
-- backoff until delivered or given up. app_id has no foreign key: a deleted
-- key's events stay in the log.
CREATE TABLE webhook_deliveries (
    id SERIAL PRIMARY KEY,
    event TEXT NOT NULL,
    app_id INTEGER NOT NULL,
    app_name TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedup_key TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due; NULL once delivered or given up.
    next_attempt_at TIMESTAMP,
    delivered_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);

-- Keys by expiry: the webhook's look for keys about to expire (every second)
-- and the dashboard's "Expiring soon".
CREATE INDEX apps_expires_at ON apps (expires_at);
