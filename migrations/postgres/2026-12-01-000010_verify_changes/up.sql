-- What each change did to verification, written in the change's own
-- transaction: every instance reads the rows after the last one it applied
-- and drops just those cache entries. kind 'app_key' (the grant of the key
-- with key_hash changed; object_id is its app), 'role' and 'service'
-- (object_id), 'key_exists' (key_hash now names a key). Rows are written
-- under change_counter's row lock, so ids are in commit order.
CREATE TABLE verify_changes (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    object_id INTEGER,
    key_hash TEXT,
    created_at TIMESTAMP NOT NULL
);

-- The newest id pruned from verify_changes: an instance that had not read
-- that far has missed changes and drops its whole cache.
ALTER TABLE change_counter ADD COLUMN pruned_through BIGINT NOT NULL DEFAULT 0;
