-- One sandbox, several processes (issue 20; store/postgresql.py, store/replay.py).
-- Every unit of work runs under one transaction-scoped advisory lock, so units
-- happen one at a time; each is numbered (the epoch) and written down once more,
-- whole, in otacm.units, which the other processes replay before their next unit.
-- The sandbox's epoch is the highest number there (old units are pruned, never
-- the newest).
CREATE TABLE otacm.units (
    epoch bigint PRIMARY KEY,
    body  bytea NOT NULL
);

-- A number for each process that opens the sandbox: it holds a session-level
-- advisory lock on it while it lives, so the others can tell it died (its
-- queued webhook deliveries are then taken over).
CREATE SEQUENCE otacm.workers;
