-- Violations raised by the detectors: one row from start to end, with the evidence to review it.
CREATE TABLE violations (
    id             INTEGER PRIMARY KEY,
    camera_id      TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    type           TEXT NOT NULL,
    zone           TEXT,
    zone_points    TEXT,
    state          TEXT NOT NULL,
    onset_at       REAL NOT NULL,
    started_at     REAL NOT NULL,
    ended_at       REAL,
    end_reason     TEXT,
    confidence     REAL NOT NULL,
    bbox           TEXT,
    clip_start     REAL NOT NULL,
    clip_end       REAL,
    clip_status    TEXT NOT NULL,
    clip_ref       TEXT,
    updated_at     REAL NOT NULL
);
CREATE INDEX violations_by_camera ON violations (camera_id, started_at);
CREATE INDEX violations_by_institution ON violations (institution_id, started_at);
CREATE INDEX violations_by_state ON violations (state, started_at);

-- The picture at the start of a violation with the region drawn, kept beside the row.
CREATE TABLE violation_snapshots (
    violation_id INTEGER PRIMARY KEY REFERENCES violations(id) ON DELETE CASCADE,
    jpeg         BLOB NOT NULL
);
