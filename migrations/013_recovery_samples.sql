-- Recovery progress samples (issue 12, item 7: recovery progress and rate).
--
-- At every planner pass each node records how many bytes of the replicas
-- the planner placed on it are complete (done_bytes, from piece_chunks).
-- 'archivd fleet status' derives the recovery rate from the increases
-- between a node's consecutive samples of the last minute. A node keeps
-- its samples of the last 5 minutes.
CREATE TABLE recovery_samples (
    node_id    text        NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    sampled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    done_bytes bigint      NOT NULL,
    PRIMARY KEY (node_id, sampled_at)
);

---- create above / drop below ----

DROP TABLE recovery_samples;
