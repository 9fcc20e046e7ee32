-- Named leases serialise work across processes (the importers' overlap
-- check and insert) without a session-level advisory lock, which a
-- PgBouncer in transaction mode cannot keep: each statement may run on
-- another server connection. A holder renews its lease while it works; a
-- holder that dies loses it when expires_at passes.
CREATE TABLE leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);

---- create above / drop below ----

DROP TABLE leases;
