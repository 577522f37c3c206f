ALTER TABLE apps DROP COLUMN legacy_key;
