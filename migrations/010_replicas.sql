-- Replicas: a torrent on one node. What a node observes of its own copy
-- (data location, availability, transfer totals, piece state, verification
-- progress, findings, engine state) is per (torrent, node); the torrent
-- row keeps what all copies share (metainfo, files, collection, state).
-- A replicas row (torrent, node) also means "this torrent belongs on this
-- node": a node's engine runs its replicas only. See docs/ARCHITECTURE.md,
-- "Replicas".
--
-- Carry-over of a single-node catalog: every existing row goes to the
-- node most recently seen in the nodes table (the one node of a
-- single-node catalog). A catalog no node ever served (only `archivd add`
-- ran) has no nodes row: its rows go to the unclaimed node '' and the
-- first node that starts claims them (catalog.StartNode).
CREATE TEMP TABLE carry_over ON COMMIT DROP AS
    SELECT coalesce((SELECT id FROM nodes ORDER BY last_seen_at DESC NULLS LAST, id LIMIT 1), '') AS node;

CREATE TABLE replicas (
    torrent_id          bigint NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    -- nodes.id, or '' for rows no node has claimed yet. No foreign key:
    -- the unclaimed node has no row.
    node_id             text NOT NULL,
    -- Where this node keeps the torrent's data (absolute path).
    data_dir            text NOT NULL,
    availability        text NOT NULL DEFAULT 'ok' CHECK (availability IN ('ok', 'unavailable', 'degraded')),
    availability_cause  text NOT NULL DEFAULT ''
        CHECK (availability_cause IN ('', 'data_missing', 'data_unreadable', 'mass_failure', 'bad_metadata',
            'disk_full', 'quota_exceeded', 'read_only', 'write_io_error')),
    availability_reason text NOT NULL DEFAULT '',
    uploaded_bytes      bigint NOT NULL DEFAULT 0,
    downloaded_bytes    bigint NOT NULL DEFAULT 0,
    added_at            timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    completed_at        timestamptz,
    PRIMARY KEY (torrent_id, node_id),
    CONSTRAINT replicas_availability_cause_ok CHECK ((availability = 'ok') = (availability_cause = ''))
);
CREATE INDEX replicas_node_idx ON replicas (node_id);

INSERT INTO replicas (torrent_id, node_id, data_dir, availability, availability_cause, availability_reason,
    uploaded_bytes, downloaded_bytes, added_at, updated_at, completed_at)
SELECT t.id, coalesce(t.node_id, (SELECT node FROM carry_over)), t.data_dir, t.availability, t.availability_cause,
    t.availability_reason, t.uploaded_bytes, t.downloaded_bytes, t.added_at, t.updated_at, t.completed_at
FROM torrents t;

-- Replica changes the daemons act on wake them as a change of the torrent.
-- (NOTIFY, and a catalog_changes row for daemons that poll).
CREATE FUNCTION archivd_notify_replica() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rid bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.torrent_id ELSE NEW.torrent_id END;
BEGIN
    PERFORM pg_notify('archivd_catalog', json_build_object('table', 'torrents', 'op', 'UPDATE', 'id', rid)::text);
    INSERT INTO catalog_changes (tbl, op, row_id) VALUES ('torrents', 'UPDATE', rid);
    RETURN NULL;
END $$;
CREATE TRIGGER replicas_notify_insert_delete AFTER INSERT OR DELETE ON replicas
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_replica();
CREATE TRIGGER replicas_notify_update AFTER UPDATE OF availability, data_dir, node_id ON replicas
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_replica();

DROP TRIGGER torrents_notify_update ON torrents;
ALTER TABLE torrents DROP COLUMN availability, DROP COLUMN availability_cause, DROP COLUMN availability_reason,
    DROP COLUMN uploaded_bytes, DROP COLUMN downloaded_bytes, DROP COLUMN completed_at, DROP COLUMN node_id;
CREATE TRIGGER torrents_notify_update AFTER UPDATE OF state, metainfo, data_dir, trackers, web_seeds, collection_id ON torrents
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_change();

-- Piece state, verification progress and findings: per replica.
ALTER TABLE piece_chunks ADD COLUMN node_id text NOT NULL DEFAULT '';
UPDATE piece_chunks SET node_id = (SELECT node FROM carry_over);
ALTER TABLE piece_chunks ALTER COLUMN node_id DROP DEFAULT, DROP CONSTRAINT piece_chunks_pkey,
    ADD PRIMARY KEY (torrent_id, node_id, chunk);

ALTER TABLE verify_ranges ADD COLUMN node_id text NOT NULL DEFAULT '';
UPDATE verify_ranges SET node_id = (SELECT node FROM carry_over);
ALTER TABLE verify_ranges ALTER COLUMN node_id DROP DEFAULT, DROP CONSTRAINT verify_ranges_pkey,
    ADD PRIMARY KEY (torrent_id, node_id, first_piece);

ALTER TABLE findings ADD COLUMN node_id text NOT NULL DEFAULT '';
UPDATE findings SET node_id = (SELECT node FROM carry_over);
-- findings.node_id keeps the default '' (the unclaimed node): the catalog always names the node.
DROP INDEX findings_open_idx;
CREATE UNIQUE INDEX findings_open_idx ON findings (torrent_id, node_id, piece) WHERE state <> 'repaired';

ALTER TABLE engine_states DROP CONSTRAINT engine_states_pkey, ADD PRIMARY KEY (torrent_id, node_id);

-- Runs are a node's: queued ones of a single-node catalog go to its node.
UPDATE verify_runs SET node_id = nullif((SELECT node FROM carry_over), '') WHERE node_id IS NULL AND state = 'queued';

---- create above / drop below ----

-- Back to one state per torrent: each torrent keeps the replica of the
-- node seen most recently (the only one in a single-node catalog); the
-- other replicas' piece state, ranges, findings and engine states go.
CREATE TEMP TABLE keep ON COMMIT DROP AS
    SELECT DISTINCT ON (r.torrent_id) r.torrent_id, r.node_id
    FROM replicas r LEFT JOIN nodes n ON n.id = r.node_id
    ORDER BY r.torrent_id, n.last_seen_at DESC NULLS LAST, r.node_id;

DELETE FROM engine_states e WHERE NOT EXISTS (SELECT 1 FROM keep k WHERE k.torrent_id = e.torrent_id AND k.node_id = e.node_id);
ALTER TABLE engine_states DROP CONSTRAINT engine_states_pkey, ADD PRIMARY KEY (torrent_id);

DELETE FROM findings f WHERE NOT EXISTS (SELECT 1 FROM keep k WHERE k.torrent_id = f.torrent_id AND k.node_id = f.node_id);
DROP INDEX findings_open_idx;
ALTER TABLE findings DROP COLUMN node_id;
CREATE UNIQUE INDEX findings_open_idx ON findings (torrent_id, piece) WHERE state <> 'repaired';

DELETE FROM verify_ranges v WHERE NOT EXISTS (SELECT 1 FROM keep k WHERE k.torrent_id = v.torrent_id AND k.node_id = v.node_id);
ALTER TABLE verify_ranges DROP CONSTRAINT verify_ranges_pkey, DROP COLUMN node_id, ADD PRIMARY KEY (torrent_id, first_piece);

DELETE FROM piece_chunks p WHERE NOT EXISTS (SELECT 1 FROM keep k WHERE k.torrent_id = p.torrent_id AND k.node_id = p.node_id);
ALTER TABLE piece_chunks DROP CONSTRAINT piece_chunks_pkey, DROP COLUMN node_id, ADD PRIMARY KEY (torrent_id, chunk);

DROP TRIGGER torrents_notify_update ON torrents;
ALTER TABLE torrents
    ADD COLUMN availability text NOT NULL DEFAULT 'ok' CHECK (availability IN ('ok', 'unavailable', 'degraded')),
    ADD COLUMN availability_cause text NOT NULL DEFAULT ''
        CHECK (availability_cause IN ('', 'data_missing', 'data_unreadable', 'mass_failure', 'bad_metadata',
            'disk_full', 'quota_exceeded', 'read_only', 'write_io_error')),
    ADD COLUMN availability_reason text NOT NULL DEFAULT '',
    ADD COLUMN uploaded_bytes bigint NOT NULL DEFAULT 0,
    ADD COLUMN downloaded_bytes bigint NOT NULL DEFAULT 0,
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN node_id text REFERENCES nodes (id);
ALTER TABLE torrents ADD CONSTRAINT torrents_availability_cause_ok CHECK ((availability = 'ok') = (availability_cause = ''));
UPDATE torrents t SET availability = r.availability, availability_cause = r.availability_cause,
    availability_reason = r.availability_reason, uploaded_bytes = r.uploaded_bytes,
    downloaded_bytes = r.downloaded_bytes, completed_at = r.completed_at, data_dir = r.data_dir
FROM keep k JOIN replicas r ON r.torrent_id = k.torrent_id AND r.node_id = k.node_id
WHERE t.id = k.torrent_id;
CREATE TRIGGER torrents_notify_update AFTER UPDATE OF state, availability, metainfo, data_dir, trackers, web_seeds, collection_id ON torrents
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_change();

DROP TABLE replicas;
DROP FUNCTION archivd_notify_replica();
