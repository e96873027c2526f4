-- Every message to a notifier (a webhook, a group robot, one phone of an SMS gateway): written when the notice is
-- raised, so a restart loses none, and updated as it is tried: pending -> delivered, or failed once given up.
CREATE TABLE notification_deliveries (
    id              INTEGER PRIMARY KEY,
    notifier_id     TEXT NOT NULL,
    recipient       TEXT NOT NULL DEFAULT '',
    event           TEXT NOT NULL,
    ref             TEXT NOT NULL,
    severity        TEXT NOT NULL,
    institution_id  TEXT,
    title           TEXT NOT NULL,
    text            TEXT NOT NULL,
    url             TEXT,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error      TEXT,
    created_at      REAL NOT NULL,
    delivered_at    REAL,
    -- One message per notifier, recipient and event of a thing, however often the event is raised.
    UNIQUE (notifier_id, recipient, event, ref)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (state, next_attempt_at);
