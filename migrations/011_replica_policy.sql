-- Placement and recovery (issue 12, items 3 and 4).
--
-- How many copies (replicas on distinct nodes) each torrent should have:
-- a collection's replicas_min and replicas_max, overridable per torrent
-- (NULL = the collection's). The planner places a torrent with fewer than
-- replicas_min counting copies on other nodes; default 1 keeps a
-- single-node catalog as it is.
ALTER TABLE collections
    ADD COLUMN replicas_min integer NOT NULL DEFAULT 1 CHECK (replicas_min >= 1),
    ADD COLUMN replicas_max integer NOT NULL DEFAULT 1 CHECK (replicas_max >= 1),
    ADD CONSTRAINT collections_replicas_range CHECK (replicas_min <= replicas_max);
ALTER TABLE torrents
    ADD COLUMN replicas_min integer CHECK (replicas_min >= 1),
    ADD COLUMN replicas_max integer CHECK (replicas_max >= 1),
    ADD CONSTRAINT torrents_replicas_range CHECK (replicas_min IS NULL OR replicas_max IS NULL OR replicas_min <= replicas_max);

-- A replica placed by the planner: the receiving node chooses its data
-- directory (replicas.data_dir is '' until it has) and then downloads it
-- from the nodes holding copies. placed_by names the planner's node
-- ('' = added on the node itself).
ALTER TABLE replicas ADD COLUMN placed_by text NOT NULL DEFAULT '';

---- create above / drop below ----

ALTER TABLE replicas DROP COLUMN placed_by;
ALTER TABLE torrents DROP CONSTRAINT torrents_replicas_range, DROP COLUMN replicas_min, DROP COLUMN replicas_max;
ALTER TABLE collections DROP CONSTRAINT collections_replicas_range, DROP COLUMN replicas_min, DROP COLUMN replicas_max;
