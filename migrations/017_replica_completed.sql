-- A replica's completion is a recorded fact (issue 12, catalog scale):
-- replicas.completed_at is set when every piece of the replica is
-- recorded complete (bit_count of piece_chunks.complete >= the torrent's
-- piece_count) and cleared when a piece is recorded not complete again
-- (bitrot found by a scrub, a repair). The catalog writes it where pieces
-- are recorded (catalog.StorePieces, AddTorrent, AddTorrents); the
-- planner's steps read it instead of summing every placed replica's
-- piece bits at every pass. See docs/ARCHITECTURE.md, "Replicas".
--
-- Backfill from piece state: the time of the replica's newest piece
-- record stands for when it completed.
UPDATE replicas SET completed_at = NULL WHERE completed_at IS NOT NULL;
WITH d AS (
    SELECT torrent_id, node_id, sum(bit_count(complete)) AS done, max(updated_at) AS last
    FROM piece_chunks GROUP BY torrent_id, node_id)
UPDATE replicas r SET completed_at = d.last
FROM d, torrents t
WHERE d.torrent_id = r.torrent_id AND d.node_id = r.node_id AND t.id = r.torrent_id
    AND t.piece_count IS NOT NULL AND d.done >= t.piece_count;

-- The planner's pending bytes and recoveries per node: the placed
-- replicas not complete yet, without reading the completed ones.
CREATE INDEX replicas_fetching_idx ON replicas (node_id) WHERE placed_by <> '' AND completed_at IS NULL;

---- create above / drop below ----

DROP INDEX replicas_fetching_idx;
-- Before this migration nothing wrote completed_at.
UPDATE replicas SET completed_at = NULL;
