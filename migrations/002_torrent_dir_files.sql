-- The .torrent files of a collection's torrent_dir already imported (or
-- found to be in the catalog), so that a start does not read and parse
-- every file again: a file whose path, size and modification time are
-- unchanged, and whose torrent is still in the catalog, costs nothing.
CREATE TABLE torrent_dir_files (
    collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    path          text NOT NULL,
    size          bigint NOT NULL,
    mtime_ns      bigint NOT NULL,
    infohash      bytea NOT NULL CHECK (length(infohash) = 20),
    PRIMARY KEY (collection_id, path)
);

---- create above / drop below ----

DROP TABLE torrent_dir_files;
