-- Organisation tree as configured: bureau -> town/park/sub-district -> institution.
CREATE TABLE org_units (
    id         TEXT PRIMARY KEY,
    parent_id  TEXT REFERENCES org_units(id),
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    updated_at REAL NOT NULL
);

-- Cameras as configured; rows stay after a camera is removed so that history keeps its name.
CREATE TABLE cameras (
    id             TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    enabled        INTEGER NOT NULL,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    removed_at     REAL
);

-- Every change of a camera's connection state, with its cause.
CREATE TABLE camera_health_events (
    id        INTEGER PRIMARY KEY,
    camera_id TEXT NOT NULL,
    at        REAL NOT NULL,
    state     TEXT NOT NULL,
    detail    TEXT
);
CREATE INDEX camera_health_events_by_camera ON camera_health_events (camera_id, at);

-- Periodic measurements of each camera's stream.
CREATE TABLE camera_health_samples (
    camera_id         TEXT NOT NULL,
    at                REAL NOT NULL,
    state             TEXT NOT NULL,
    fps               REAL NOT NULL,
    bitrate_bps       REAL NOT NULL,
    reconnects        INTEGER NOT NULL,
    last_packet_age_s REAL,
    PRIMARY KEY (camera_id, at)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT,
    password_hash TEXT NOT NULL,
    org_unit_id   TEXT NOT NULL,
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);

-- Who did what to which camera, when: log-ins, live views, exports.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        REAL NOT NULL,
    user_id   INTEGER,
    username  TEXT,
    action    TEXT NOT NULL,
    target    TEXT,
    detail    TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (at);
