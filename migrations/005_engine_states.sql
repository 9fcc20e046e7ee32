-- What each torrent is doing in a running daemon's engine right now
-- (seeding, checking, downloading, fetching_metadata), written by the
-- daemon when it changes (batched), cleared by the node at a clean stop
-- and at its next start. A row whose node is not running (nodes.clean_stop
-- set, or last_seen_at old after a crash) is stale: readers say so.
CREATE TABLE engine_states (
    torrent_id bigint PRIMARY KEY REFERENCES torrents (id) ON DELETE CASCADE,
    node_id    text NOT NULL,
    state      text NOT NULL CHECK (state IN ('seeding', 'checking', 'downloading', 'fetching_metadata')),
    since      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX engine_states_node_idx ON engine_states (node_id);

---- create above / drop below ----

DROP TABLE engine_states;
