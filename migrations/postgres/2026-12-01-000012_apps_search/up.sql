-- The API Keys list's search (src/apps/queries/list.rs): trigram indexes on
-- the expressions it matches with LIKE, which the planner uses to find the
-- few apps holding a search of 3 or more characters without reading the
-- others. lower() under the "C" collation folds the ASCII letters and no
-- others, whatever the database's locale: the case rule of SQLite's LIKE, so
-- that both backends find the same apps.
--
-- pg_trgm ships with PostgreSQL and is trusted (since 13), so a database
-- owner who is not a superuser may create it; where it is installed already,
-- this leaves it be.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- fastupdate off: a new app goes into the index at once, instead of into a
-- pending list that every search reads through until a vacuum merges it.
-- Apps are written rarely and searched as an administrator types.
CREATE INDEX apps_name_trgm ON apps
    USING gin (lower(name COLLATE "C") gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX apps_description_trgm ON apps
    USING gin (lower(description COLLATE "C") gin_trgm_ops) WITH (fastupdate = off);
