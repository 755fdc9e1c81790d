-- Records of the webhook side, by kind (a subscription, a delivery not yet
-- delivered, an event held for company): key → the record as JSON.
CREATE TABLE records (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
