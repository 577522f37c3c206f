-- Sessions of DreamFactory's system API (POST /api/v2/system/admin/session):
-- what a DreamFactory script signs in for and then sends as
-- X-DreamFactory-Session-Token. A session acts as its administrator; only
-- its SHA-256 is stored, with a display prefix. It expires (expires_at),
-- signing out deletes it, and deleting the administrator deletes it;
-- deactivating them stops it (the look-up joins admins on every request).
-- Kept apart from admin_tokens so that the tokens page and /api/v1 never
-- see a session.
CREATE TABLE api_sessions (
    id SERIAL PRIMARY KEY,
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX api_sessions_expires_at ON api_sessions (expires_at);
