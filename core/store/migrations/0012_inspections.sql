-- Inspections (定期巡查): a town inspects each of its institutions every month, the bureau each town every quarter.
-- An inspection is remote (through a spot check, whose snapshots are its evidence) or on site (photos uploaded);
-- its checklist results are rows of `inspection_items`. Which inspections are due is computed from the
-- organisation and these rows; nothing is pre-created.
CREATE TABLE inspections (
    id            INTEGER PRIMARY KEY,
    unit_id       TEXT NOT NULL,                                   -- the institution or town inspected
    level         TEXT NOT NULL CHECK (level IN ('institution', 'town')),
    period        TEXT NOT NULL,                                   -- '2026-12' (month) or '2026-Q4' (quarter)
    mode          TEXT NOT NULL CHECK (mode IN ('remote', 'on_site')),
    spot_check_id INTEGER REFERENCES spot_checks(id) ON DELETE SET NULL,
    inspector_id  INTEGER,
    inspector     TEXT NOT NULL,
    started_at    REAL NOT NULL,
    finished_at   REAL,
    summary       TEXT
);
CREATE INDEX inspections_by_unit ON inspections (unit_id, period);

-- One row per checklist item: its result and, where it failed, the case (隐患) it opened.
CREATE TABLE inspection_items (
    inspection_id INTEGER NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
    item          TEXT NOT NULL,
    result        TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'not_applicable')),
    note          TEXT,
    case_id       INTEGER REFERENCES cases(id) ON DELETE SET NULL,
    PRIMARY KEY (inspection_id, item)
);

-- Photos taken on site, optionally for one checklist item.
CREATE TABLE inspection_photos (
    id            INTEGER PRIMARY KEY,
    inspection_id INTEGER NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
    item          TEXT,
    at            REAL NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    data          BLOB NOT NULL
);
CREATE INDEX inspection_photos_by_inspection ON inspection_photos (inspection_id, id);
