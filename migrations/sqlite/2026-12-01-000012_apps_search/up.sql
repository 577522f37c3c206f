-- The API Keys list's search (src/apps/queries/list.rs): a trigram index over
-- apps' names and descriptions, so that a search of 3 or more characters
-- finds the few apps holding it without reading every app.
--
-- External content (content='apps'): the index only, no second copy of the
-- text. A search reads rowids from it and checks each candidate against the
-- apps row itself (the index folds Unicode case, the search only ASCII case),
-- so nothing ever reads the text back from here. The triggers hand the index
-- the old values it must remove, which are exactly the ones it was given.
-- columnsize=0: the sizes are for ranking, which the list does not do.
CREATE VIRTUAL TABLE apps_search USING fts5 (
    name,
    description,
    content = 'apps',
    content_rowid = 'id',
    columnsize = 0,
    tokenize = 'trigram case_sensitive 0'
);
INSERT INTO apps_search (apps_search) VALUES ('rebuild');

CREATE TRIGGER apps_search_insert AFTER INSERT ON apps BEGIN
    INSERT INTO apps_search (rowid, name, description) VALUES (new.id, new.name, new.description);
END;
CREATE TRIGGER apps_search_delete AFTER DELETE ON apps BEGIN
    INSERT INTO apps_search (apps_search, rowid, name, description)
        VALUES ('delete', old.id, old.name, old.description);
END;
-- Only a change of the indexed text: last-used times and the like are
-- written often and leave the index alone.
CREATE TRIGGER apps_search_update AFTER UPDATE OF name, description ON apps BEGIN
    INSERT INTO apps_search (apps_search, rowid, name, description)
        VALUES ('delete', old.id, old.name, old.description);
    INSERT INTO apps_search (rowid, name, description) VALUES (new.id, new.name, new.description);
END;
