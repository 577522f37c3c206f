-- The administrator a session is signed in as, copied from its state on every
-- save, so that deactivating or deleting an administrator, or a password
-- change, can end that administrator's sessions. No foreign key: a request in
-- flight may still save the session of an administrator just deleted.
ALTER TABLE sessions ADD COLUMN admin_id INTEGER;
CREATE INDEX sessions_admin_id ON sessions (admin_id);

-- Sessions signed in before this migration. actix-session stores each value
-- JSON-encoded in a JSON object of strings: {"admin_id":"5",...}.
UPDATE sessions
SET admin_id = CAST(json_extract(state, '$.admin_id') AS INTEGER)
WHERE CASE WHEN json_valid(state) THEN json_extract(state, '$.admin_id') END GLOB '[0-9]*';

-- Every change that could leave keyward without an active administrator
-- writes this row first, so such changes happen one after another.
INSERT OR IGNORE INTO settings (name, value) VALUES ('admins_changed_at', '');
