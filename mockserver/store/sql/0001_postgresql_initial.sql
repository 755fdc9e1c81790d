-- The first schema of an otacm sandbox database (store/postgresql.py applies
-- the numbered migrations in order, under an advisory lock, each in one
-- transaction, and records each in otacm.schema_version). Everything lives in
-- the schema `otacm`, so the database may hold other programs' tables.
CREATE SCHEMA otacm;

CREATE TABLE otacm.schema_version (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- An order is one row: the columns a query filters on, and the whole record
-- as JSON (store/codec.py; `json`, not `jsonb`, keeps the text as written).
-- `version` grows by one at every write of the row: a process that read
-- version N can later update it only WHERE version = N (issue 20).
CREATE TABLE otacm.orders (
    order_id    text PRIMARY KEY,
    seq         bigint NOT NULL UNIQUE,
    tenant      text NOT NULL,
    environment text NOT NULL,
    company     text NOT NULL,
    partner_id  text NOT NULL,
    reference   text NOT NULL,
    status      text NOT NULL,
    received_at double precision NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    body        json NOT NULL
);
CREATE INDEX orders_by_partner ON otacm.orders (tenant, environment, company, partner_id, seq);
CREATE INDEX orders_by_reference ON otacm.orders (tenant, environment, company, partner_id, reference);
CREATE INDEX orders_by_status ON otacm.orders (status, seq);

-- The schedule's pending data steps (sandbox/schedule.py), due on the sandbox
-- clock. A row each, with an id: a worker can later claim the due ones with
-- SELECT ... WHERE due <= $now ORDER BY due, id FOR UPDATE SKIP LOCKED.
CREATE TABLE otacm.steps (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    due        double precision NOT NULL,
    kind       text NOT NULL,
    subject    text NOT NULL,
    generation bigint NOT NULL,
    UNIQUE (kind, subject, generation, due)
);
CREATE INDEX steps_by_due ON otacm.steps (due, id);

-- Named counters (order sequence numbers, delivery ids): the last number taken.
CREATE TABLE otacm.counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);

-- The sandbox clock: one row, an offset from real time or a frozen instant.
CREATE TABLE otacm.clock (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    clock_offset double precision NOT NULL,
    frozen_at    double precision
);

-- Records of the webhook side, by kind (a subscription, a delivery not yet
-- delivered, an event held for company), in the order first written.
CREATE TABLE otacm.records (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind  text NOT NULL,
    key   text NOT NULL,
    value json NOT NULL,
    UNIQUE (kind, key)
);
