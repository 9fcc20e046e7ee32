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

// RecordTorrentDirFile remembers a torrent_dir file whose torrent is in
// the catalog (just imported, or there before).
func (db *DB) RecordTorrentDirFile(ctx context.Context, collectionID int64, f DirFile) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO torrent_dir_files (collection_id, path, size, mtime_ns, infohash)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (collection_id, path) DO UPDATE
		SET size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, infohash = EXCLUDED.infohash`,
		collectionID, f.Path, f.Size, f.MtimeNS, f.InfoHash[:]); err != nil {
		return fmt.Errorf("catalog: record torrent_dir file %s: %w", f.Path, err)
	}
	return nil
}
