-- The API Keys list pages through apps by keyset: each page seeks into one of
-- these indexes and reads about a page of it (src/apps/queries.rs `list`).
-- Sort by name uses the unique index on name; by created and last used, these
-- (column, id); with a status filter, the same led by is_active.
CREATE INDEX apps_created_at_id ON apps (created_at, id);
CREATE INDEX apps_last_used_at_id ON apps (last_used_at, id);
CREATE INDEX apps_is_active_name ON apps (is_active, name);
CREATE INDEX apps_is_active_created_at_id ON apps (is_active, created_at, id);
CREATE INDEX apps_is_active_last_used_at_id ON apps (is_active, last_used_at, id);
-- Keys never used are listed by id. PostgreSQL does not read `last_used_at IS
-- NULL` off (last_used_at, id) in id order (SQLite does); these do.
CREATE INDEX apps_never_used_id ON apps (id) WHERE last_used_at IS NULL;
CREATE INDEX apps_never_used_is_active_id ON apps (is_active, id) WHERE last_used_at IS NULL;
