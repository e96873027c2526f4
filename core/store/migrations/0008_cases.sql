-- Cases (隐患): a hazard found, followed until its rectification is verified or it is dismissed as a false alarm.
-- `source` + `source_id` say where it came from (a violation, a spot check, later a public report).
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    institution_id  TEXT NOT NULL,
    camera_id       TEXT,
    kind            TEXT NOT NULL,
    zone            TEXT,
    severity        TEXT NOT NULL CHECK (severity IN ('urgent', 'major', 'minor')),
    description     TEXT,
    source          TEXT NOT NULL,
    source_id       TEXT,
    state           TEXT NOT NULL
        CHECK (state IN ('open', 'acknowledged', 'rectifying', 'rectified', 'verified', 'dismissed')),
    assignee_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    opened_at       REAL NOT NULL,
    opened_by       TEXT,
    deadline_at     REAL NOT NULL,
    rectifying_at   REAL,
    closed_at       REAL,
    dismiss_reason  TEXT,
    overdue_at      REAL,
    escalated_at    REAL,
    escalated_to    TEXT,
    updated_at      REAL NOT NULL
);
CREATE INDEX cases_by_institution ON cases (institution_id, opened_at);
CREATE INDEX cases_by_state ON cases (state, deadline_at);
-- Where a repeated violation looks for the open case it joins.
CREATE INDEX cases_by_camera_kind ON cases (camera_id, kind, state);

-- The violations a case stands for: the first, and each repeat of the same kind, camera and zone while it is open.
CREATE TABLE case_violations (
    violation_id INTEGER PRIMARY KEY REFERENCES violations(id) ON DELETE CASCADE,
    case_id      INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    linked_at    REAL NOT NULL
);
CREATE INDEX case_violations_by_case ON case_violations (case_id);

-- Who did what when: appended with every change, never updated (the repository has no path to).
CREATE TABLE case_history (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    at         REAL NOT NULL,
    user_id    INTEGER,
    username   TEXT,
    action     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT,
    detail     TEXT
);
CREATE INDEX case_history_by_case ON case_history (case_id, id);

CREATE TABLE case_comments (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    at       REAL NOT NULL,
    user_id  INTEGER,
    username TEXT NOT NULL,
    text     TEXT NOT NULL
);
CREATE INDEX case_comments_by_case ON case_comments (case_id, id);

-- Pictures: photos uploaded (rectification, on-site), or snapshots copied from a violation or a spot check.
CREATE TABLE case_evidence (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    at           REAL NOT NULL,
    user_id      INTEGER,
    username     TEXT,
    origin       TEXT NOT NULL CHECK (origin IN ('upload', 'violation', 'spot_check', 'public_report')),
    origin_ref   TEXT,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    note         TEXT,
    data         BLOB NOT NULL
);
CREATE INDEX case_evidence_by_case ON case_evidence (case_id, id);

-- How far the violation event log has been turned into cases. Violations raised before this migration stay
-- as they were: the cursor starts at the log's end.
CREATE TABLE case_intake (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL
);
INSERT INTO case_intake (id, last_event_id) SELECT 1, COALESCE(MAX(id), 0) FROM violation_events;
