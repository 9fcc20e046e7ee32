-- Stalled replicas (issue 12, a lifecycle gap): a replica the planner
-- placed that has not completed is "fetching" and takes one of its node's
-- fleet.max_recoveries_per_node slots; one that can never complete (no
-- node holding a complete copy is up, no outside peer has the data) took
-- it for ever, and held every rebalance move. A placed replica not
-- complete whose pieces recorded complete have not grown for
-- fleet.recovery_stall_after is stalled: it stays placed but no longer
-- counts as fetching. See docs/ARCHITECTURE.md, "Replicas".
--
-- When a replica last made progress is the later of two facts:
--
-- piece_chunks.grown_at: when the chunk's count of pieces recorded
-- complete last grew, written by the upsert that records the pieces
-- (catalog.StorePieces): no extra statement, and no write of the replicas
-- row at every group commit (the planner's leader locks replicas rows in
-- its own order). NULL: never grew since this column exists.
ALTER TABLE piece_chunks ADD COLUMN grown_at timestamptz;
-- replicas.progress_at: when its fetch (re)started without a piece
-- recorded: placed (the insert), settled (its data directory chosen),
-- completion recorded or lost (a piece found bad), its node started.
ALTER TABLE replicas ADD COLUMN progress_at timestamptz NOT NULL DEFAULT now();

-- The placed replicas not complete now (a handful, the partial index
-- replicas_fetching_idx): their chunks' newest record stands for their
-- last growth, their own last change for the start of their fetch.
UPDATE piece_chunks p SET grown_at = p.updated_at
FROM replicas r
WHERE r.torrent_id = p.torrent_id AND r.node_id = p.node_id AND r.placed_by <> '' AND r.completed_at IS NULL
    AND bit_count(p.complete) > 0;
UPDATE replicas SET progress_at = greatest(added_at, updated_at)
WHERE placed_by <> '' AND completed_at IS NULL;

---- create above / drop below ----

ALTER TABLE replicas DROP COLUMN progress_at;
ALTER TABLE piece_chunks DROP COLUMN grown_at;
