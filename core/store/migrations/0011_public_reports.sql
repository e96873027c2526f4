-- Public hazard reports (隐患举报): sent without a log-in from an institution's notice-board page, triaged by its
-- town into a case or rejected. The reporter follows it with a receipt code; only the code's SHA-256 is kept, so
-- a copy of the database does not hand out the codes.
CREATE TABLE public_reports (
    id             INTEGER PRIMARY KEY,
    receipt_hash   TEXT NOT NULL UNIQUE,
    institution_id TEXT NOT NULL,
    description    TEXT NOT NULL,
    place          TEXT,
    contact        TEXT,  -- the reporter's phone or name: shown only to those who triage
    submitted_at   REAL NOT NULL,
    state          TEXT NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'accepted', 'rejected')),
    case_id        INTEGER REFERENCES cases(id) ON DELETE SET NULL,
    triaged_at     REAL,
    triaged_by     TEXT,
    reject_reason  TEXT,  -- shown to the reporter with the state
    reward         INTEGER NOT NULL DEFAULT 0 CHECK (reward IN (0, 1)),
    reward_at      REAL,
    reward_by      TEXT,
    reward_note    TEXT,
    updated_at     REAL NOT NULL
);
CREATE INDEX public_reports_by_institution ON public_reports (institution_id, id);
CREATE INDEX public_reports_by_state ON public_reports (state, id);

CREATE TABLE public_report_photos (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES public_reports(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL
);
CREATE INDEX public_report_photos_by_report ON public_report_photos (report_id, id);

-- Reports taken per client address, for the rate limit: apart from the reports so that the address is not kept
-- with what was reported, and pruned once no window can reach a row.
CREATE TABLE public_report_submissions (
    id     INTEGER PRIMARY KEY,
    client TEXT NOT NULL,
    at     REAL NOT NULL
);
CREATE INDEX public_report_submissions_by_client ON public_report_submissions (client, at);
