-- The change log: every change the triggers NOTIFY about is also a row
-- here, for daemons that cannot LISTEN (database.listen: false, a pooler
-- that drops LISTEN): their Notifier reads the rows committed since its
-- last poll. xid is the writing transaction's: a poll reads every row of
-- transactions at or after the oldest one still running at the previous
-- poll (pg_snapshot_xmin), so a row committed late, behind a newer id, is
-- not skipped. The daemon's retention deletes rows older than an hour.
CREATE TABLE catalog_changes (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid    xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at     timestamptz NOT NULL DEFAULT now(),
    tbl    text NOT NULL,
    op     text NOT NULL,
    row_id bigint NOT NULL
);
CREATE INDEX catalog_changes_xid_idx ON catalog_changes (xid);
CREATE INDEX catalog_changes_at_idx ON catalog_changes (at);

CREATE OR REPLACE FUNCTION archivd_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rid bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
BEGIN
    PERFORM pg_notify('archivd_catalog', json_build_object(
        'table', TG_TABLE_NAME, 'op', TG_OP, 'id', rid)::text);
    INSERT INTO catalog_changes (tbl, op, row_id) VALUES (TG_TABLE_NAME, TG_OP, rid);
    RETURN NULL;
END $$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION archivd_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('archivd_catalog', json_build_object(
        'table', TG_TABLE_NAME, 'op', TG_OP,
        'id', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
    RETURN NULL;
END $$;
DROP TABLE catalog_changes;
