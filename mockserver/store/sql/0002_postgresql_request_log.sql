-- The request log (mockserver/api/request_log.py), in chunks: one row per
-- batch the log's writer wrote, its requests marshalled together
-- (store/writethrough.py: encode_requests). A row per request cost twice the
-- CPU per request (bench section 9). Chunks wholly below the bound are
-- deleted in the transaction that writes a new one, and the read side, loaded
-- when the sandbox opens, keeps only the newest `limit` requests.
CREATE TABLE otacm.request_log (
    last_id  bigint PRIMARY KEY,
    first_id bigint NOT NULL,
    requests bytea NOT NULL
);
