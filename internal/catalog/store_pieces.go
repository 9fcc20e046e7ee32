package catalog

import (
	"context"
	"fmt"
)

// ExistingTorrents reports which of ids still exist (the seeder's store
// drops piece states of torrents deleted while they waited for a commit).
func (db *DB) ExistingTorrents(ctx context.Context, ids []int64) (map[int64]bool, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id FROM torrents WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("catalog: look up torrents: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]bool, len(ids))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("catalog: look up torrents: %w", err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: look up torrents: %w", err)
	}
	return out, nil
}
