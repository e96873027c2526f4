-- The supervision chain's roles replace the first three: an `inspector` at the bureau becomes a city inspector,
-- one lower down a town officer (an inspector placed at an institution keeps only what a viewer may do).
UPDATE users SET role = CASE
    WHEN org_unit_id IN (SELECT id FROM org_units WHERE kind = 'bureau') THEN 'city_inspector'
    WHEN org_unit_id IN (SELECT id FROM org_units WHERE kind = 'institution') THEN 'viewer'
    ELSE 'town_officer' END
WHERE role = 'inspector';

-- Failed log-ins, per account and per client address, for the rate limit and the lock-out.
CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    at       REAL NOT NULL,
    username TEXT NOT NULL,
    client   TEXT
);
CREATE INDEX login_failures_by_username ON login_failures (username, at);
CREATE INDEX login_failures_by_client ON login_failures (client, at);

-- API tokens for machine clients: named, scoped as their user, revocable; only their hashes are kept.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    created_at   REAL NOT NULL,
    expires_at   REAL,
    last_used_at REAL,
    revoked_at   REAL
);
