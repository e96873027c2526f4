-- Recorded segments: one fragmented-MP4 file each, addressed by UTC time.
CREATE TABLE recording_segments (
    id         INTEGER PRIMARY KEY,
    camera_id  TEXT NOT NULL,
    path       TEXT NOT NULL UNIQUE,       -- relative to the recordings directory
    start_ts   REAL NOT NULL,
    end_ts     REAL NOT NULL,
    size_bytes INTEGER NOT NULL,
    init_size  INTEGER NOT NULL,           -- bytes of ftyp+moov at the head of the file
    codec      TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    params     TEXT NOT NULL,              -- digest of the codec parameters: a change needs a new init segment
    keyframes  TEXT NOT NULL,              -- key frame offsets from start_ts in seconds, comma-separated
    state      TEXT NOT NULL CHECK (state IN ('open', 'closed'))
);
CREATE INDEX recording_segments_by_camera ON recording_segments (camera_id, start_ts);
CREATE INDEX recording_segments_by_end ON recording_segments (end_ts);

-- Spans without video, with their cause; end_ts is NULL while the gap lasts.
CREATE TABLE recording_gaps (
    id        INTEGER PRIMARY KEY,
    camera_id TEXT NOT NULL,
    start_ts  REAL NOT NULL,
    end_ts    REAL,
    cause     TEXT NOT NULL
);
CREATE INDEX recording_gaps_by_camera ON recording_gaps (camera_id, start_ts);

-- Video that must outlive retention (evidence of a violation): kept while held_until is NULL or ahead.
CREATE TABLE recording_holds (
    id         INTEGER PRIMARY KEY,
    camera_id  TEXT NOT NULL,
    start_ts   REAL NOT NULL,
    end_ts     REAL NOT NULL,
    reference  TEXT NOT NULL,              -- what holds it, e.g. 'violation:42'
    held_until REAL,
    created_at REAL NOT NULL
);
CREATE INDEX recording_holds_by_camera ON recording_holds (camera_id, start_ts);
CREATE INDEX recording_holds_by_reference ON recording_holds (reference);

-- Clip exports, cut without re-encoding by a background worker.
CREATE TABLE exports (
    id           TEXT PRIMARY KEY,
    camera_id    TEXT NOT NULL,
    user_id      INTEGER,
    username     TEXT,
    start_ts     REAL NOT NULL,
    end_ts       REAL NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress     REAL NOT NULL,
    clip_start   REAL,                     -- where the clip really starts: the key frame at or before start
    duration_s   REAL,
    size_bytes   INTEGER,
    file_name    TEXT,
    error        TEXT,
    created_at   REAL NOT NULL,
    finished_at  REAL
);
CREATE INDEX exports_by_camera ON exports (camera_id, created_at);
