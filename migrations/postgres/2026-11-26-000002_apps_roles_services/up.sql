-- APIs that keys protect. kind: 'file' (file storage) or 'api'.
CREATE TABLE services (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL CHECK (kind IN ('file', 'api')),
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The two file-storage services DreamFactory ships.
INSERT INTO services (name, label, description, kind, is_active, created_at, updated_at) VALUES
    ('files', 'Local File Storage', 'Service for managing local file storage.', 'file', TRUE,
     (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
    ('logs', 'Local Log Storage', 'Service for managing local log files.', 'file', TRUE,
     (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'));

CREATE TABLE roles (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id INTEGER REFERENCES admins (id) ON DELETE SET NULL,
    updated_by_id INTEGER REFERENCES admins (id) ON DELETE SET NULL
);

-- API keys ("apps"). Only the SHA-256 of the key is kept, never the key.
-- location is DreamFactory's app type: 0 no storage, 1 file storage service,
-- 2 remote URL, 3 this web server; only that location's columns are set.
CREATE TABLE apps (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    location INTEGER NOT NULL DEFAULT 0 CHECK (location IN (0, 1, 2, 3)),
    storage_service_id INTEGER REFERENCES services (id) ON DELETE SET NULL,
    storage_container TEXT,
    path TEXT,
    url TEXT,
    role_id INTEGER REFERENCES roles (id) ON DELETE SET NULL,
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id INTEGER REFERENCES admins (id) ON DELETE SET NULL,
    updated_by_id INTEGER REFERENCES admins (id) ON DELETE SET NULL
);
CREATE INDEX apps_role_id ON apps (role_id);
CREATE INDEX apps_storage_service_id ON apps (storage_service_id);
