-- The columns the read side's indexes need (memory.MemoryStore.add), so that
-- opening a file builds them without decoding every order's JSON: the rest
-- of an order is decoded on its first read (store/codec.py, stored_order).
-- The orders already in the file get theirs from that JSON, once.
ALTER TABLE orders ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN environment TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN company TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN partner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN reference TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN received_at REAL NOT NULL DEFAULT 0;
UPDATE orders SET
    tenant = json_extract(body, '$.scope[0]'),
    environment = json_extract(body, '$.scope[1]'),
    company = json_extract(body, '$.scope[2]'),
    partner_id = json_extract(body, '$.partner_id'),
    reference = json_extract(body, '$.sell_to_order_reference'),
    status = json_extract(body, '$.status'),
    received_at = json_extract(body, '$.received_at');
