package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Placement is where a torrent's data lies, for overlap checks: light
// enough to load for the whole catalog (no metainfo, no files).
type Placement struct {
	ID         int64
	Name       string
	Collection string
	InfoHash   [20]byte
	DataDir    string
	// OwnsDir: every torrent but a single-file one (one file, named like
	// the torrent, in a directory it may share) owns its data directory.
	OwnsDir bool
}

// Placements lists the placement of every torrent not removed: where
// this node keeps it, or where it was added when this node holds no replica.
func (db *DB) Placements(ctx context.Context) ([]Placement, error) {
	rows, err := db.pool.Query(ctx, `SELECT t.id, t.name, c.name, t.infohash, coalesce(r.data_dir, t.data_dir),
		NOT coalesce((SELECT count(*) = 1 AND bool_and(f.path = t.name) FROM torrent_files f WHERE f.torrent_id = t.id), false)
		FROM torrents t JOIN collections c ON c.id = t.collection_id
		LEFT JOIN replicas r ON r.torrent_id = t.id AND r.node_id = $1 WHERE t.state <> 'removed'`, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent placements: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Placement, error) {
		var p Placement
		var ih []byte
		err := r.Scan(&p.ID, &p.Name, &p.Collection, &ih, &p.DataDir, &p.OwnsDir)
		copy(p.InfoHash[:], ih)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent placements: %w", err)
	}
	return ps, nil
}
