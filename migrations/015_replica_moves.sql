-- Rebalance moves (issue 12, item 5: a node that joins takes its share).
--
-- The planner's leader moves a replica from an over-full node to an
-- under-full one in two steps: it places an extra copy on the target node
-- with move_from naming the source node, and once that copy is complete
-- (every piece hash-checked as it arrived) it marks the source's copy for
-- removal (remove_at) and clears move_from. A move whose target goes down,
-- out, draining or in maintenance, or whose copy there is unavailable or
-- damaged, is abandoned: the target's copy is marked for removal, the
-- source's is never touched. '' = not a move (or a move done).
-- See docs/ARCHITECTURE.md, "Rebalance".
ALTER TABLE replicas ADD COLUMN move_from text NOT NULL DEFAULT '';
CREATE INDEX replicas_move_idx ON replicas (move_from) WHERE move_from <> '';

---- create above / drop below ----

DROP INDEX replicas_move_idx;
ALTER TABLE replicas DROP COLUMN move_from;
