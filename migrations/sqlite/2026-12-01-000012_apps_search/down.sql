DROP TRIGGER apps_search_update;
DROP TRIGGER apps_search_delete;
DROP TRIGGER apps_search_insert;
DROP TABLE apps_search;
