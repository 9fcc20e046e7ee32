-- Catalog scale (issue 12): a planner pass inserts tens of thousands of
-- placements in one statement, a node's removal deletes its replicas. The
-- per-row trigger (a pg_notify and a catalog_changes row per replica)
-- took 11.7 s of a 27 s insert of 200,000 placements; one trigger per
-- statement does the same with two set-based statements: one change per
-- torrent touched (a NOTIFY of the torrent, and its catalog_changes row),
-- as the daemons read them. Updates keep their per-row trigger (a column
-- list cannot go with transition tables).
CREATE FUNCTION archivd_notify_replicas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('archivd_catalog', json_build_object('table', 'torrents', 'op', 'UPDATE', 'id', x.torrent_id)::text)
    FROM (SELECT DISTINCT torrent_id FROM changed ORDER BY torrent_id) x;
    INSERT INTO catalog_changes (tbl, op, row_id)
    SELECT 'torrents', 'UPDATE', x.torrent_id FROM (SELECT DISTINCT torrent_id FROM changed ORDER BY torrent_id) x;
    RETURN NULL;
END $$;
DROP TRIGGER replicas_notify_insert_delete ON replicas;
CREATE TRIGGER replicas_notify_insert AFTER INSERT ON replicas REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION archivd_notify_replicas();
CREATE TRIGGER replicas_notify_delete AFTER DELETE ON replicas REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION archivd_notify_replicas();

---- create above / drop below ----

DROP TRIGGER replicas_notify_delete ON replicas;
DROP TRIGGER replicas_notify_insert ON replicas;
DROP FUNCTION archivd_notify_replicas();
CREATE TRIGGER replicas_notify_insert_delete AFTER INSERT OR DELETE ON replicas
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_replica();
