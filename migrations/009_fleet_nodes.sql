-- Fleet (issue 12): what each node tells the others about itself, the
-- admin state an operator sets on it, whether it is out, the filesystems
-- of its data roots, and the fleet-wide operator flags.
--
-- Up or down is not stored: a node is up while it has not stopped cleanly
-- and its last_seen_at (refreshed every 10 s) is within the lease TTL
-- (30 s) of the database's now() (catalog.NodeUpTTL).
ALTER TABLE nodes
    -- Display name (config node.name; default the hostname).
    ADD COLUMN name          text NOT NULL DEFAULT '',
    -- host:port other nodes dial for BitTorrent (config node.advertise_address,
    -- else the engine's listen address).
    ADD COLUMN bt_addr       text NOT NULL DEFAULT '',
    ADD COLUMN zone          text NOT NULL DEFAULT '',
    ADD COLUMN tags          text[] NOT NULL DEFAULT '{}',
    -- archivd version of the running (or last) process.
    ADD COLUMN version       text NOT NULL DEFAULT '',
    -- Set by an operator ('archivd node drain|maintenance'), separate from
    -- up/down: draining = move everything off it; maintenance = expected to
    -- be away, never marked out automatically.
    ADD COLUMN admin_state   text NOT NULL DEFAULT 'active'
        CHECK (admin_state IN ('active', 'draining', 'maintenance')),
    ADD COLUMN admin_state_at timestamptz,
    ADD COLUMN admin_reason  text NOT NULL DEFAULT '',
    -- Out: its replicas are to be placed elsewhere. NULL = in. out_auto:
    -- marked out automatically (down too long), so it is in again when it
    -- starts; an operator's out stays until the operator undoes it.
    ADD COLUMN out_at        timestamptz,
    ADD COLUMN out_reason    text NOT NULL DEFAULT '',
    ADD COLUMN out_auto      boolean NOT NULL DEFAULT false;

-- The data roots a node stores torrents under, with the capacity and free
-- space of the filesystem holding each, refreshed by the node while it
-- runs. Roots with the same device share one filesystem's space.
CREATE TABLE node_data_roots (
    node_id        text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    path           text NOT NULL,
    device         text NOT NULL DEFAULT '',
    capacity_bytes bigint NOT NULL DEFAULT 0 CHECK (capacity_bytes >= 0),
    free_bytes     bigint NOT NULL DEFAULT 0 CHECK (free_bytes >= 0),
    -- Why capacity could not be read ('' = read fine).
    error          text NOT NULL DEFAULT '',
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node_id, path)
);

-- Fleet-wide operator flags ('archivd fleet set|unset FLAG'); a row per
-- flag while it is set.
CREATE TABLE fleet_flags (
    flag   text PRIMARY KEY CHECK (flag IN ('noout', 'norebalance', 'norecover', 'noscrub')),
    set_at timestamptz NOT NULL DEFAULT now(),
    set_by text NOT NULL DEFAULT '',
    reason text NOT NULL DEFAULT ''
);

---- create above / drop below ----

DROP TABLE fleet_flags;
DROP TABLE node_data_roots;
ALTER TABLE nodes
    DROP COLUMN name, DROP COLUMN bt_addr, DROP COLUMN zone, DROP COLUMN tags,
    DROP COLUMN version, DROP COLUMN admin_state, DROP COLUMN admin_state_at,
    DROP COLUMN admin_reason, DROP COLUMN out_at, DROP COLUMN out_reason, DROP COLUMN out_auto;
