-- The overdue list (`state IN (running states) AND deadline_at < now`, newest first): through cases_by_state
-- SQLite gathered every overdue case and sorted them (44 ms over 1,000,000 cases, 20,096 overdue; bench/api.py).
-- This index holds only the running cases, in id order with their deadline and institution, so the list walks
-- back from the newest and reads no table row to test either; core/store/cases.py names it (INDEXED BY). Its
-- WHERE must stay the very text that query writes (`state IN ('acknowledged', 'open', 'rectifying')`): SQLite
-- uses a partial index only where the query's terms repeat its condition.
CREATE INDEX cases_running_by_id ON cases (id, deadline_at, institution_id)
    WHERE state IN ('acknowledged', 'open', 'rectifying');

-- A list of the violations overlapping a span (`since`, `until`) walked back from the newest violation to the span's
-- end, reading every row's start on the way (18-130 ms for a day of the past year); with this index the list finds the
-- first violation started a day after `until` and starts from its id (core/store/violations.py, `find`).
CREATE INDEX violations_by_start ON violations (started_at);
