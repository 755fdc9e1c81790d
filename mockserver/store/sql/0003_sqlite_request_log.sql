-- The request log (mockserver/api/request_log.py), in chunks: one row per
-- batch the log's writer wrote, its requests marshalled together
-- (store/writethrough.py: encode_requests). A row per request cost twice the
-- CPU per request (bench section 9). Chunks wholly below the bound are
-- deleted in the transaction that writes a new one, and the read side, loaded
-- when the file is opened, keeps only the newest `limit` requests.
CREATE TABLE request_log (
    last_id  INTEGER PRIMARY KEY,
    first_id INTEGER NOT NULL,
    requests BLOB NOT NULL
)
