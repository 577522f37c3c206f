ALTER TABLE audit_events DROP COLUMN via_token;
DROP TABLE admin_tokens;
