-- archivd catalog, first version. See docs/ARCHITECTURE.md for the model.

-- Nodes are archivd processes sharing this catalog. One row per node id;
-- clean_stop is set on a clean shutdown and cleared at start, so a start
-- knows whether in-flight piece state must be re-checked.
CREATE TABLE nodes (
    id           text PRIMARY KEY,
    hostname     text NOT NULL DEFAULT '',
    started_at   timestamptz,
    stopped_at   timestamptz,
    last_seen_at timestamptz,
    clean_stop   boolean NOT NULL DEFAULT true
);

CREATE TABLE collections (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
    description   text NOT NULL DEFAULT '',
    -- Where the data of torrents added to this collection goes by default
    -- (each torrent in its own directory below it). Empty: the daemon's data_dir.
    data_root     text NOT NULL DEFAULT '',
    state         text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
    -- 'cli' rows are the operator's; 'config' rows are reconciled from the config file.
    source        text NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'config')),
    web_seeds     text[] NOT NULL DEFAULT '{}',
    -- Overrides of the verification policy (keys as in the config's verify section).
    verify_policy jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE torrents (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id    bigint NOT NULL REFERENCES collections (id),
    -- v1 infohash (SHA-1), or the truncated v2 infohash for v2-only torrents.
    infohash         bytea NOT NULL UNIQUE CHECK (length(infohash) = 20),
    infohash_v2      bytea UNIQUE CHECK (infohash_v2 IS NULL OR length(infohash_v2) = 32),
    name             text NOT NULL DEFAULT '',
    -- The magnet link it was added from, if any.
    magnet           text,
    -- Full .torrent bytes; NULL until a magnet's metadata has been fetched.
    metainfo         bytea,
    piece_length     bigint CHECK (piece_length IS NULL OR piece_length > 0),
    piece_count      integer CHECK (piece_count IS NULL OR piece_count >= 0),
    total_length     bigint CHECK (total_length IS NULL OR total_length >= 0),
    -- The torrent's own directory: absolute path; file paths are relative to it.
    data_dir         text NOT NULL,
    state            text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'removed')),
    -- 'unavailable': data directory gone or mass failure; not repaired until cleared.
    availability     text NOT NULL DEFAULT 'ok' CHECK (availability IN ('ok', 'unavailable')),
    availability_reason text NOT NULL DEFAULT '',
    trackers         text[] NOT NULL DEFAULT '{}',
    web_seeds        text[] NOT NULL DEFAULT '{}',
    -- Node the torrent lives on; NULL = any (single node).
    node_id          text REFERENCES nodes (id),
    uploaded_bytes   bigint NOT NULL DEFAULT 0,
    downloaded_bytes bigint NOT NULL DEFAULT 0,
    source           text NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'config')),
    added_at         timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz
);
CREATE INDEX torrents_collection_idx ON torrents (collection_id);
-- Not unique: single-file torrents adopted where they lie may share a
-- directory; the importer refuses torrents whose files overlap.
CREATE INDEX torrents_data_dir_idx ON torrents (data_dir);

CREATE TABLE torrent_files (
    torrent_id bigint NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    idx        integer NOT NULL,
    -- '/'-separated, relative to the torrent's data_dir, already checked safe.
    path       text NOT NULL,
    length     bigint NOT NULL CHECK (length >= 0),
    -- Byte offset of the file within the torrent's concatenated data.
    "offset"   bigint NOT NULL CHECK ("offset" >= 0),
    PRIMARY KEY (torrent_id, idx)
);

-- Piece completion, with no row per piece: one row per chunk of
-- piece_chunk_size pieces (65536), two bitfields of ceil(n/8) bytes.
-- Bit i of a chunk (byte i/8, bit i%8 counted from the most significant
-- bit, as in BitTorrent bitfields) is piece chunk*65536 + i.
--   known=0             : never recorded: hashed before it is trusted
--   known=1, complete=0 : recorded not complete (fetched again)
--   known=1, complete=1 : verified and durable on disk
-- Read and write the bits in Go (internal/catalog): PostgreSQL's
-- get_bit/set_bit count bits of a bytea from the least significant end.
CREATE TABLE piece_chunks (
    torrent_id bigint NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    chunk      integer NOT NULL CHECK (chunk >= 0),
    known      bytea NOT NULL,
    complete   bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (torrent_id, chunk)
);

-- Verification progress per range of pieces, so the planner picks the
-- least recently verified ranges first and a crash repeats one range only.
CREATE TABLE verify_ranges (
    torrent_id       bigint NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    first_piece      integer NOT NULL CHECK (first_piece >= 0),
    piece_count      integer NOT NULL CHECK (piece_count > 0),
    last_verified_at timestamptz,
    last_result      text CHECK (last_result IN ('ok', 'failed')),
    last_run_id      bigint,
    PRIMARY KEY (torrent_id, first_piece)
);
CREATE INDEX verify_ranges_oldest_idx ON verify_ranges (last_verified_at NULLS FIRST);

CREATE TABLE verify_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('scheduled', 'manual', 'offline')),
    -- {"collections": [...], "torrents": [...]}; empty = everything due.
    scope           jsonb NOT NULL DEFAULT '{}',
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    node_id         text,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    bytes_planned   bigint NOT NULL DEFAULT 0,
    bytes_hashed    bigint NOT NULL DEFAULT 0,
    pieces_checked  bigint NOT NULL DEFAULT 0,
    pieces_failed   bigint NOT NULL DEFAULT 0,
    pieces_repaired bigint NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT ''
);
CREATE INDEX verify_runs_state_idx ON verify_runs (state) WHERE state IN ('queued', 'running');

-- Leased units of verification work (claim-then-commit with SKIP LOCKED);
-- a job whose lease expired is claimed again by another worker.
CREATE TABLE verify_jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           bigint NOT NULL REFERENCES verify_runs (id) ON DELETE CASCADE,
    torrent_id       bigint NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    first_piece      integer NOT NULL,
    piece_count      integer NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    lease_owner      text,
    lease_expires_at timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    bytes_done       bigint NOT NULL DEFAULT 0,
    error            text NOT NULL DEFAULT '',
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verify_jobs_claim_idx ON verify_jobs (state, lease_expires_at);
CREATE INDEX verify_jobs_run_idx ON verify_jobs (run_id);

CREATE TABLE findings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        bigint REFERENCES verify_runs (id) ON DELETE SET NULL,
    torrent_id    bigint NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    piece         integer NOT NULL,
    file_index    integer,
    file_path     text NOT NULL DEFAULT '',
    file_offset   bigint,
    kind          text NOT NULL CHECK (kind IN ('hash_mismatch', 'missing_file', 'short_file', 'io_error')),
    detail        text NOT NULL DEFAULT '',
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'repairing', 'repaired', 'held')),
    detected_at   timestamptz NOT NULL DEFAULT now(),
    repaired_at   timestamptz,
    repair_source text NOT NULL DEFAULT ''
);
CREATE INDEX findings_open_idx ON findings (torrent_id, piece) WHERE state <> 'repaired';
CREATE INDEX findings_run_idx ON findings (run_id);

-- Peers seen per torrent, re-added at start so transfers resume at once.
CREATE TABLE peers (
    torrent_id   bigint NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    addr         text NOT NULL,
    source       text NOT NULL DEFAULT '',
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (torrent_id, addr)
);

CREATE TABLE events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    collection_id bigint REFERENCES collections (id) ON DELETE SET NULL,
    torrent_id    bigint REFERENCES torrents (id) ON DELETE SET NULL,
    kind          text NOT NULL,
    message       text NOT NULL DEFAULT '',
    data          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at_idx ON events (at);

-- Catalog changes wake the daemon through NOTIFY archivd_catalog with a
-- small JSON payload {"table": ..., "op": ..., "id": ...}.
CREATE FUNCTION archivd_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('archivd_catalog', json_build_object(
        'table', TG_TABLE_NAME, 'op', TG_OP,
        'id', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER collections_notify AFTER INSERT OR UPDATE OR DELETE ON collections
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_change();
-- Transfer totals and timestamps change constantly: only the columns the
-- daemon acts on wake it.
CREATE TRIGGER torrents_notify_insert_delete AFTER INSERT OR DELETE ON torrents
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_change();
CREATE TRIGGER torrents_notify_update AFTER UPDATE OF state, availability, metainfo, data_dir, trackers, web_seeds, collection_id ON torrents
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_change();
CREATE TRIGGER verify_runs_notify AFTER INSERT ON verify_runs
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_change();

---- create above / drop below ----

DROP TABLE events, peers, findings, verify_jobs, verify_runs, verify_ranges,
    piece_chunks, torrent_files, torrents, collections, nodes;
DROP FUNCTION archivd_notify_change();
