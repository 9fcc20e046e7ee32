-- Choosing the data directory of a torrent the fleet planner placed on a
-- node (importer.PlacedDirs) loads only the placements whose directory
-- equals, contains or lies below a candidate (catalog.PlacementsNear),
-- not every torrent of the catalog: equality and prefix ranges
-- (dir || '/' <= data_dir < dir || '0') in byte order, whatever the
-- database's collation. See docs/ARCHITECTURE.md, "Replicas".
CREATE INDEX torrents_data_dir_c_idx ON torrents ((data_dir COLLATE "C"));
CREATE INDEX replicas_node_data_dir_idx ON replicas (node_id, (data_dir COLLATE "C"));

---- create above / drop below ----

DROP INDEX replicas_node_data_dir_idx;
DROP INDEX torrents_data_dir_c_idx;
