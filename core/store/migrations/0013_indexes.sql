-- Lists are newest first (`ORDER BY id DESC LIMIT n`), filtered by one column: an index on (column, id) hands
-- SQLite that column's rows already in id order, so it reads the newest n and stops, instead of collecting every
-- matching row and sorting them (the (column, time) indexes of 0004 and 0008 serve time ranges, not id order).
-- Measured over 1,000,000 cases and violations by bench/api.py (docs/performance.md).
CREATE INDEX cases_by_institution_id ON cases (institution_id, id);
CREATE INDEX cases_by_state_id ON cases (state, id);
CREATE INDEX cases_by_kind_id ON cases (kind, id);
CREATE INDEX violations_by_camera_id ON violations (camera_id, id);
CREATE INDEX violations_by_type_id ON violations (type, id);
CREATE INDEX violations_by_state_id ON violations (state, id);

-- A camera's false alarms (dismissed violation cases by kind: every camera of GET /api/cameras, which the web UI
-- loads first) counted from the index alone, without reading each dismissed case's row.
CREATE INDEX cases_dismissed_by_camera ON cases (camera_id, state, source, kind);

-- Statistics count each camera's samples taken online over a period (core/store/statistics.py): the samples are
-- written a minute at a time for every camera, so one camera's lie spread over the whole table, and the primary
-- key (camera_id, at) does not hold the state. With the state in the index the count reads only the index, one
-- camera's samples side by side: a year's JSON report of the busiest town went from 13-15 s to 1.6-1.7 s cold,
-- from 4.2-4.5 s to 1.0-1.8 s warm.
CREATE INDEX camera_health_samples_by_camera ON camera_health_samples (camera_id, at, state);
