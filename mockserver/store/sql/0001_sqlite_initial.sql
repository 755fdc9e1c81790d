-- The first schema of an otacm sandbox file (store/sqlite.py applies the
-- numbered migrations in order and records the last in PRAGMA user_version).
-- An order is one row: the index columns the read side rebuilds from, and
-- the whole record as JSON (store/codec.py).
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE,
    body     TEXT NOT NULL
);
-- The schedule's pending data steps (sandbox/schedule.py), due on the sandbox clock.
CREATE TABLE steps (
    due        REAL NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (kind, subject, generation, due)
);
-- Counters and the clock: key → JSON value.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
