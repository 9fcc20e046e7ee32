-- Removal of replicas (issue 12, items 5 and trim above replicas_max).
--
-- The planner's leader marks a replica for removal (remove_at set, with
-- why): a surplus copy of a torrent with more complete copies than its
-- replicas_max, or a copy on a draining node once the torrent has
-- replicas_min complete copies elsewhere. A marked replica no longer counts
-- as a copy and no longer runs in its node's engine; its node drops it,
-- deletes its files if the planner placed it there (placed_by <> ''), and
-- deletes the row. See docs/ARCHITECTURE.md, "Trim and drain".
ALTER TABLE replicas
    ADD COLUMN remove_at     timestamptz,
    ADD COLUMN remove_reason text NOT NULL DEFAULT '';

-- The mark wakes the node holding the replica (its engine drops it).
DROP TRIGGER replicas_notify_update ON replicas;
CREATE TRIGGER replicas_notify_update AFTER UPDATE OF availability, data_dir, node_id, remove_at ON replicas
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_replica();

---- create above / drop below ----

DROP TRIGGER replicas_notify_update ON replicas;
CREATE TRIGGER replicas_notify_update AFTER UPDATE OF availability, data_dir, node_id ON replicas
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_replica();
ALTER TABLE replicas DROP COLUMN remove_at, DROP COLUMN remove_reason;
