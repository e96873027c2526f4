-- The audit log becomes append-only and tamper-evident. Each row carries the time range it concerns (a playback's
-- or an export's requested range, a live view's start and end) and `hash`: SHA-256 over the previous row's hash and
-- this row's fields (core/store/audit_chain.py). SQLite has no SHA-256, so rows written before this migration are
-- chained by the service at its next start (AuditRepository.seal), in id order, before anything new is written.
ALTER TABLE audit_log ADD COLUMN range_start REAL;
ALTER TABLE audit_log ADD COLUMN range_end REAL;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE INDEX audit_log_by_user ON audit_log (username, id);
CREATE INDEX audit_log_by_target ON audit_log (target, id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);

-- No update or delete path, whatever the code above does: the only change a row may ever see is the one-time
-- sealing of a row written before the chain existed (its hash set, nothing else touched).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL
    OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.user_id IS NOT OLD.user_id
    OR NEW.username IS NOT OLD.username OR NEW.action IS NOT OLD.action OR NEW.target IS NOT OLD.target
    OR NEW.detail IS NOT OLD.detail OR NEW.client IS NOT OLD.client
    OR NEW.range_start IS NOT OLD.range_start OR NEW.range_end IS NOT OLD.range_end
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: its rows cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: its rows cannot be deleted');
END;
-- A row must arrive chained: writing around AuditRepository.record would leave a hole in the chain.
CREATE TRIGGER audit_log_chained_insert BEFORE INSERT ON audit_log
WHEN NEW.hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are written chained, through AuditRepository.record');
END;
