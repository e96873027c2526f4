-- Remote spot checks (远程视频抽查): an inspector walks through an institution's cameras live, keeps
-- snapshots as evidence and records a result with a remark.
CREATE TABLE spot_checks (
    id             INTEGER PRIMARY KEY,
    institution_id TEXT NOT NULL,
    user_id        INTEGER,
    username       TEXT NOT NULL,
    started_at     REAL NOT NULL,
    finished_at    REAL,
    result         TEXT CHECK (result IS NULL OR result IN ('pass', 'issues')),
    remark         TEXT
);
CREATE INDEX spot_checks_by_institution ON spot_checks (institution_id, started_at);

-- A snapshot kept as evidence: the camera's key frame as it was when the inspector took it.
CREATE TABLE spot_check_evidence (
    id            INTEGER PRIMARY KEY,
    spot_check_id INTEGER NOT NULL REFERENCES spot_checks(id) ON DELETE CASCADE,
    camera_id     TEXT NOT NULL,
    frame_at      REAL NOT NULL,
    taken_at      REAL NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    jpeg          BLOB NOT NULL
);
CREATE INDEX spot_check_evidence_by_check ON spot_check_evidence (spot_check_id, taken_at);
