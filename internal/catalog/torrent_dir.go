package catalog

import (
	"context"
	"fmt"
)

// DirFile is a .torrent file of a collection's torrent_dir as it was when
// it was imported: a file with the same path, size and modification time
// is not read again while its torrent is in the catalog.
type DirFile struct {
	Path     string
	Size     int64
	MtimeNS  int64
	InfoHash [20]byte
}

// TorrentDirFiles returns, by path, the recorded torrent_dir files of a
// collection whose torrent is still in the catalog, in one query.
func (db *DB) TorrentDirFiles(ctx context.Context, collectionID int64) (map[string]DirFile, error) {
	rows, err := db.pool.Query(ctx, `SELECT f.path, f.size, f.mtime_ns, f.infohash FROM torrent_dir_files f
		JOIN torrents t ON t.infohash = f.infohash WHERE f.collection_id = $1`, collectionID)
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent_dir files of collection %d: %w", collectionID, err)
	}
	defer rows.Close()
	out := map[string]DirFile{}
	for rows.Next() {
		var f DirFile
		var ih []byte
		if err := rows.Scan(&f.Path, &f.Size, &f.MtimeNS, &ih); err != nil {
			return nil, fmt.Errorf("catalog: list torrent_dir files of collection %d: %w", collectionID, err)
		}
		copy(f.InfoHash[:], ih)
		out[f.Path] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: list torrent_dir files of collection %d: %w", collectionID, err)
	}
	return out, nil
}

// RecordTorrentDirFiles remembers torrent_dir files whose torrents are in
// the catalog (just imported, or there before), in one statement: an
// import of a thousand files commits once for them, not once per file.
func (db *DB) RecordTorrentDirFiles(ctx context.Context, collectionID int64, fs []DirFile) error {
	if len(fs) == 0 {
		return nil
	}
	paths, ihs := make([]string, len(fs)), make([][]byte, len(fs))
	sizes, mtimes := make([]int64, len(fs)), make([]int64, len(fs))
	for i, f := range fs {
		paths[i], sizes[i], mtimes[i], ihs[i] = f.Path, f.Size, f.MtimeNS, f.InfoHash[:]
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO torrent_dir_files (collection_id, path, size, mtime_ns, infohash)
		SELECT $1, u.path, u.size, u.mtime_ns, u.infohash FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bytea[]) AS u(path, size, mtime_ns, infohash)
		ON CONFLICT (collection_id, path) DO UPDATE
		SET size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, infohash = EXCLUDED.infohash`,
		collectionID, paths, sizes, mtimes, ihs); err != nil {
		return fmt.Errorf("catalog: record %d torrent_dir files (the first %s): %w", len(fs), fs[0].Path, err)
	}
	return nil
}
