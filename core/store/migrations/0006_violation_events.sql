-- Every change of a violation, in order, as the violation stood after it: written in the same transaction as
-- the change, so that nothing that happened can be missing from what is forwarded (the outbox of the uplink).
CREATE TABLE violation_events (
    id             INTEGER PRIMARY KEY,
    violation_id   INTEGER NOT NULL REFERENCES violations(id) ON DELETE CASCADE,
    camera_id      TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    phase          TEXT NOT NULL,
    at             REAL NOT NULL,
    record         TEXT NOT NULL
);
CREATE INDEX violation_events_by_violation ON violation_events (violation_id);

-- How far each upper platform's forwarding has taken the events in, and what it still has to deliver.
CREATE TABLE uplink_cursors (
    platform_id   TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL
);
CREATE TABLE uplink_deliveries (
    id              INTEGER PRIMARY KEY,
    platform_id     TEXT NOT NULL,
    event_id        INTEGER NOT NULL REFERENCES violation_events(id) ON DELETE CASCADE,
    camera_id       TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error      TEXT,
    created_at      REAL NOT NULL,
    delivered_at    REAL,
    UNIQUE (platform_id, event_id)
);
CREATE INDEX uplink_deliveries_due ON uplink_deliveries (platform_id, state, camera_id, event_id);
