-- The PostgreSQL store's queries, by name (store/queries.py reads them).
-- The write side's names and parameters are the SQLite store's
-- (store/writethrough.py queues them); placeholders are psycopg's %s.

-- name: upsert_order
INSERT INTO otacm.orders (order_id, seq, tenant, environment, company, partner_id, reference, status, received_at,
                          body)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, reference = excluded.reference,
                                     body = excluded.body, version = otacm.orders.version + 1;

-- name: delete_order
DELETE FROM otacm.orders WHERE order_id = %s;

-- name: delete_all_orders
DELETE FROM otacm.orders;

-- name: all_orders
SELECT order_id, tenant, environment, company, partner_id, reference, received_at, seq, status, body::text
FROM otacm.orders ORDER BY seq;

-- name: count_orders
SELECT count(*) FROM otacm.orders;

-- name: insert_step
INSERT INTO otacm.steps (due, kind, subject, generation) VALUES (%s, %s, %s, %s)
ON CONFLICT (kind, subject, generation, due) DO NOTHING;

-- name: delete_step
DELETE FROM otacm.steps WHERE due = %s AND kind = %s AND subject = %s AND generation = %s;

-- name: delete_all_steps
DELETE FROM otacm.steps;

-- name: pending_steps
SELECT due, kind, subject, generation FROM otacm.steps ORDER BY due, id;

-- name: upsert_counter
-- Never lowered: the request log's ids are taken by several processes (take_request_ids), and a counter's
-- numbers are never reused anyway.
INSERT INTO otacm.counters (name, value) VALUES (%s, %s)
ON CONFLICT (name) DO UPDATE SET value = greatest(otacm.counters.value, excluded.value);

-- name: all_counters
SELECT name, value FROM otacm.counters;

-- name: upsert_clock
INSERT INTO otacm.clock (id, clock_offset, frozen_at) VALUES (true, %s, %s)
ON CONFLICT (id) DO UPDATE SET clock_offset = excluded.clock_offset, frozen_at = excluded.frozen_at;

-- name: saved_clock
SELECT clock_offset, frozen_at FROM otacm.clock;

-- name: upsert_record
INSERT INTO otacm.records (kind, key, value) VALUES (%s, %s, %s)
ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value;

-- name: delete_record
DELETE FROM otacm.records WHERE kind = %s AND key = %s;

-- name: delete_records_of_kind
DELETE FROM otacm.records WHERE kind = %s;

-- name: all_records
SELECT kind, key, value FROM otacm.records ORDER BY id;

-- name: insert_requests
INSERT INTO otacm.request_log (last_id, first_id, requests) VALUES (%s, %s, %s)
ON CONFLICT (last_id) DO NOTHING;

-- name: delete_requests_below
DELETE FROM otacm.request_log WHERE last_id < %s;

-- name: delete_all_requests
DELETE FROM otacm.request_log;

-- name: all_requests
SELECT requests FROM otacm.request_log ORDER BY last_id;

-- name: begin_locked
-- a unit's start (store/pg_units.py hold_units): its transaction begun, the sandbox lock taken
BEGIN; SELECT pg_advisory_xact_lock(%s, %s);

-- name: commit_unit
COMMIT;

-- name: rollback_unit
ROLLBACK;

-- name: epoch
SELECT coalesce(max(epoch), 0) FROM otacm.units;

-- name: units_after
SELECT epoch, body FROM otacm.units WHERE epoch > %s ORDER BY epoch;

-- name: insert_unit
INSERT INTO otacm.units (epoch, body) VALUES (%s, %s);

-- name: prune_units
DELETE FROM otacm.units WHERE epoch <= %s;

-- name: repeatable_read
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;

-- name: take_worker
SELECT nextval('otacm.workers');

-- name: hold_worker_lock
SELECT pg_advisory_lock(%s, %s);

-- name: try_worker_lock
SELECT pg_try_advisory_lock(%s, %s);

-- name: release_worker_lock
SELECT pg_advisory_unlock(%s, %s);

-- name: take_request_ids
INSERT INTO otacm.counters (name, value) VALUES ('request-log', %s)
ON CONFLICT (name) DO UPDATE SET value = otacm.counters.value + excluded.value
RETURNING value;

-- name: lock_migrations
SELECT pg_advisory_xact_lock(%s, %s);

-- name: schema_state
SELECT to_regnamespace('otacm') IS NOT NULL, to_regclass('otacm.schema_version') IS NOT NULL;

-- name: schema_version
SELECT coalesce(max(version), 0) FROM otacm.schema_version;

-- name: record_migration
INSERT INTO otacm.schema_version (version) VALUES (%s);
