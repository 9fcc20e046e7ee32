-- Catalog scale (issue 12: 10 nodes x 100,000 torrents at 3 replicas):
-- a node's few replicas of each kind are found without reading all of its
-- replicas (30,000 at that scale) at every planner pass.
--
-- The replicas the planner placed on a node (recovery samples, the
-- planner's pending bytes and recoveries per node).
CREATE INDEX replicas_placed_idx ON replicas (node_id) WHERE placed_by <> '';
-- A node's replicas marked for removal (removed at each pass).
CREATE INDEX replicas_removing_idx ON replicas (node_id) WHERE remove_at IS NOT NULL;
-- A node's placed replicas whose data directory is not chosen yet
-- (settled at each pass).
CREATE INDEX replicas_unsettled_idx ON replicas (node_id) WHERE data_dir = '';

---- create above / drop below ----

DROP INDEX replicas_unsettled_idx;
DROP INDEX replicas_removing_idx;
DROP INDEX replicas_placed_idx;
