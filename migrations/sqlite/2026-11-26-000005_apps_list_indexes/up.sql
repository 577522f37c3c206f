-- The API Keys list pages through apps by keyset: each page seeks into one of
-- these indexes and reads about a page of it (src/apps/queries.rs `list`).
-- By created and by last used: (column, id); with a status filter, the same
-- led by is_active.
CREATE INDEX apps_created_at_id ON apps (created_at, id);
CREATE INDEX apps_last_used_at_id ON apps (last_used_at, id);
CREATE INDEX apps_is_active_created_at_id ON apps (is_active, created_at, id);
CREATE INDEX apps_is_active_last_used_at_id ON apps (is_active, last_used_at, id);
-- By name, the default order and the one a search is typed into: the index
-- also holds the description, so that a search (a LIKE on name and
-- description, which no index can seek) tests each app in the index itself
-- and reads the table only for the matches; a search that matches nothing
-- then reads 100,000 apps in about 15 ms instead of 100.
CREATE INDEX apps_name_description ON apps (name, description);
CREATE INDEX apps_is_active_name_description ON apps (is_active, name, description);
