DROP INDEX apps_is_active_name_description;
DROP INDEX apps_name_description;
DROP INDEX apps_is_active_last_used_at_id;
DROP INDEX apps_is_active_created_at_id;
DROP INDEX apps_last_used_at_id;
DROP INDEX apps_created_at_id;
