DROP INDEX apps_previous_key_hash;
ALTER TABLE apps DROP COLUMN previous_key_expires_at;
ALTER TABLE apps DROP COLUMN previous_key_hash;
ALTER TABLE apps DROP COLUMN expires_at;
