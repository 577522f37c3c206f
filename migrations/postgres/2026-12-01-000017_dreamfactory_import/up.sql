-- Keys imported from DreamFactory (src/apps/domain/legacy_key.rs): key_hash
-- is the SHA-256 of a DreamFactory key, kept working until the key is rolled
-- to a kw_ key (which sets this back to false).
ALTER TABLE apps ADD COLUMN legacy_key BOOLEAN NOT NULL DEFAULT FALSE;
