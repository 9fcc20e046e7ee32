package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RecoveringFromHere returns the torrents this node holds a replica of
// (not marked for removal) that another node is recovering: a replica
// there placed by the planner, not marked for removal, not complete
// (replicas.completed_at not set). Their reads for peers wait for
// fleet.recovery_send_rate.
func (db *DB) RecoveringFromHere(ctx context.Context) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT o.torrent_id
		FROM replicas o JOIN torrents t ON t.id = o.torrent_id
		JOIN replicas me ON me.torrent_id = o.torrent_id AND me.node_id = $1 AND me.remove_at IS NULL
		WHERE o.node_id <> $1 AND o.placed_by <> '' AND o.remove_at IS NULL AND t.state <> 'removed'
			AND o.completed_at IS NULL
		ORDER BY o.torrent_id`, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: list the torrents other nodes are recovering from this one: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("catalog: list the torrents other nodes are recovering from this one: %w", err)
	}
	return ids, nil
}
