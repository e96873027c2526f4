-- Two statements that run under the write lock and, over 1,000,000 cases (bench/api.py), read far more than they
-- return. Like cases_running_by_id (0014), each index holds the running cases alone, and its WHERE is the very text
-- its query writes (core/store/cases.py): SQLite uses a partial index only where the query repeats its condition.

-- A violation joins the open case of its camera, kind and zone (`take_violation`). Without statistics SQLite walked
-- cases_by_kind_id back from the newest case of the kind to skip a sort: 0.1-1.5 s for a busy kind, for every
-- violation taken in, with every other write waiting.
CREATE INDEX cases_running_by_camera ON cases (camera_id, kind, zone, id)
    WHERE state NOT IN ('dismissed', 'verified');

-- The overdue sweep (`escalate_overdue`) looks for running cases past their deadline not yet flagged: through
-- cases_by_state it read every overdue case's row to find the few not flagged (25-65 ms, every sweep).
CREATE INDEX cases_unflagged_by_deadline ON cases (deadline_at)
    WHERE state IN ('acknowledged', 'open', 'rectifying') AND overdue_at IS NULL;
