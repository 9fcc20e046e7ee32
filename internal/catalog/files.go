package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// FilesOf returns the files of several torrents in one query, in index order.
func (db *DB) FilesOf(ctx context.Context, ids []int64) (map[int64][]File, error) {
	rows, err := db.pool.Query(ctx, `SELECT torrent_id, idx, path, length, "offset" FROM torrent_files
		WHERE torrent_id = ANY($1) ORDER BY torrent_id, idx`, ids)
	if err != nil {
		return nil, fmt.Errorf("catalog: list files of %d torrents: %w", len(ids), err)
	}
	defer rows.Close()
	out := make(map[int64][]File, len(ids))
	for rows.Next() {
		var id int64
		var f File
		if err := rows.Scan(&id, &f.Index, &f.Path, &f.Length, &f.Offset); err != nil {
			return nil, fmt.Errorf("catalog: list files of %d torrents: %w", len(ids), err)
		}
		out[id] = append(out[id], f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: list files of %d torrents: %w", len(ids), err)
	}
	return out, nil
}

// File is one file of a torrent.
type File struct {
	Index  int    `json:"index"`
	Path   string `json:"path"`
	Length int64  `json:"length"`
	Offset int64  `json:"offset"`
}

func insertFiles(ctx context.Context, tx pgx.Tx, id int64, files []File) error {
	rows := make([][]any, len(files))
	for i, f := range files {
		rows[i] = []any{id, f.Index, f.Path, f.Length, f.Offset}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"torrent_files"}, []string{"torrent_id", "idx", "path", "length", "offset"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("store files: %w", err)
	}
	return nil
}

// Files returns the files of a torrent in index order.
func (db *DB) Files(ctx context.Context, torrentID int64) ([]File, error) {
	rows, err := db.pool.Query(ctx, `SELECT idx, path, length, "offset" FROM torrent_files WHERE torrent_id = $1 ORDER BY idx`, torrentID)
	if err != nil {
		return nil, fmt.Errorf("catalog: list files of torrent %d: %w", torrentID, err)
	}
	fs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) {
		var f File
		return f, r.Scan(&f.Index, &f.Path, &f.Length, &f.Offset)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list files of torrent %d: %w", torrentID, err)
	}
	return fs, nil
}
