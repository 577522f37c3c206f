-- Expiry, and roll-over: after a roll the old key's hash may keep working
-- until previous_key_expires_at (the grace period the admin chose).
ALTER TABLE apps ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE apps ADD COLUMN previous_key_hash TEXT;
ALTER TABLE apps ADD COLUMN previous_key_expires_at TIMESTAMP;
CREATE UNIQUE INDEX apps_previous_key_hash ON apps (previous_key_hash);
