-- The audit log: one row per change an administrator made, written in the
-- same transaction as the change. admin_id and object_id carry no foreign key
-- on purpose: the record outlives the admin and the object (ids are never
-- reused: every table uses a sequence), and the names are kept as they were.
CREATE TABLE audit_events (
    id SERIAL PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    admin_id INTEGER,
    admin_email TEXT NOT NULL,
    address TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id INTEGER NOT NULL,
    object_name TEXT NOT NULL,
    action TEXT NOT NULL,
    -- JSON: [{"field": ..., "before": ... | null, "after": ... | null}, ...]
    changes TEXT NOT NULL
);
-- Newest first is id order; the filters walk their own index in id order.
CREATE INDEX audit_events_object ON audit_events (object_kind, object_id, id);
CREATE INDEX audit_events_kind ON audit_events (object_kind, id);
CREATE INDEX audit_events_admin ON audit_events (admin_id, id);
