DROP INDEX apps_description_trgm;
DROP INDEX apps_name_trgm;
-- pg_trgm stays: it may have been there before, and others may use it.
