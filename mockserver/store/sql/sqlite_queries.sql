-- The SQLite store's queries, by name (store/queries.py reads them).

-- name: upsert_order
INSERT INTO orders (order_id, seq, tenant, environment, company, partner_id, reference, status, received_at, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, body = excluded.body;

-- name: delete_order
DELETE FROM orders WHERE order_id = ?;

-- name: delete_all_orders
DELETE FROM orders;

-- name: all_orders
SELECT order_id, tenant, environment, company, partner_id, reference, received_at, seq, status, body
FROM orders ORDER BY seq;

-- name: insert_step
INSERT OR IGNORE INTO steps (due, kind, subject, generation) VALUES (?, ?, ?, ?);

-- name: delete_step
DELETE FROM steps WHERE due = ? AND kind = ? AND subject = ? AND generation = ?;

-- name: delete_all_steps
DELETE FROM steps;

-- name: pending_steps
SELECT due, kind, subject, generation FROM steps ORDER BY due, rowid;

-- name: upsert_meta
INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: all_meta
SELECT key, value FROM meta;

-- name: upsert_record
INSERT INTO records (kind, key, value) VALUES (?, ?, ?)
ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value;

-- name: delete_record
DELETE FROM records WHERE kind = ? AND key = ?;

-- name: delete_records_of_kind
DELETE FROM records WHERE kind = ?;

-- name: records_of_kind
SELECT key, value FROM records WHERE kind = ? ORDER BY rowid;

-- name: record_kinds
SELECT DISTINCT kind FROM records;

-- name: count_orders
SELECT count(*) FROM orders;

-- name: clock_meta
SELECT value FROM meta WHERE key = 'clock';

-- name: insert_requests
INSERT OR REPLACE INTO request_log (last_id, first_id, requests) VALUES (?, ?, ?);

-- name: delete_requests_below
DELETE FROM request_log WHERE last_id < ?;

-- name: delete_all_requests
DELETE FROM request_log;

-- name: all_requests
SELECT requests FROM request_log ORDER BY last_id;
