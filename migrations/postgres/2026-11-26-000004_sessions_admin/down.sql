DELETE FROM settings WHERE name = 'admins_changed_at';
DROP INDEX sessions_admin_id;
ALTER TABLE sessions DROP COLUMN admin_id;
