-- Failed sign-ins, counted per account and per client address, so that every
-- instance on this database throttles together and a restart forgets nothing.
-- subject is "account:" + SHA-256 of the normalised email, or "address:" + IP.
CREATE TABLE login_throttle (
    subject TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
CREATE INDEX login_throttle_window ON login_throttle (window_started_at);
