-- Who did what from where: the client address of each audited action (the login's was in `detail`).
ALTER TABLE audit_log ADD COLUMN client TEXT;
