-- Admin API tokens: what automation presents to /api/v1/. A token acts as the
-- administrator who made it; only its SHA-256 is stored, with a display
-- prefix. A revoked token keeps its row (and its name in the audit log).
CREATE TABLE admin_tokens (
    id SERIAL PRIMARY KEY,
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    -- 'read' or 'write'
    scope TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX admin_tokens_admin ON admin_tokens (admin_id, id);
-- An active token's name is unique, so "via token CI" names one token.
CREATE UNIQUE INDEX admin_tokens_active_name ON admin_tokens (name) WHERE revoked_at IS NULL;

-- Which token made a change, when one did.
ALTER TABLE audit_events ADD COLUMN via_token TEXT;
