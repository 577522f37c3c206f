-- Access rules of a role: verbs (bit set: GET 1, POST 2, PUT 4, PATCH 8,
-- DELETE 16) on a component of one service, or of every service when
-- service_id is NULL. Component: '' (the service root), '*', 'prefix/*' or an
-- exact path.
CREATE TABLE role_rules (
    id SERIAL PRIMARY KEY,
    role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    service_id INTEGER REFERENCES services (id) ON DELETE CASCADE,
    component TEXT NOT NULL,
    verbs INTEGER NOT NULL CHECK (verbs BETWEEN 1 AND 31),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX role_rules_role_id ON role_rules (role_id);
CREATE INDEX role_rules_service_id ON role_rules (service_id);

-- Bumped in the same transaction as every change that affects verification;
-- each instance polls it and drops its verification cache when it moves.
CREATE TABLE change_counter (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO change_counter (id, version) VALUES (1, 0);

ALTER TABLE apps ADD COLUMN last_used_at TIMESTAMP;
