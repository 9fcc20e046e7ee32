package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// PlacedReplicas lists the torrents placed on this handle's node by the
// planner whose data directory the node has not chosen yet (replicas.data_dir
// ”): the node's engine does not run them until SettleReplica.
func (db *DB) PlacedReplicas(ctx context.Context) ([]Torrent, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+torrentCols+torrentFrom(1)+` WHERE r.node_id IS NOT NULL AND r.data_dir = '' AND r.remove_at IS NULL
		AND t.state <> 'removed' ORDER BY t.id`, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: list replicas placed on node %q: %w", db.NodeID(), err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Torrent, error) { return scanTorrent(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list replicas placed on node %q: %w", db.NodeID(), err)
	}
	for i := range ts {
		ts[i].Node = db.NodeID()
	}
	return ts, nil
}

// SettleReplica sets the data directory of this node's replica of torrent
// id, placed without one; the change wakes the node's engine, which
// fetches the data from the nodes holding copies. Its progress clock
// (progress_at, see StalledSQL) starts again.
func (db *DB) SettleReplica(ctx context.Context, id int64, dataDir string) error {
	if dataDir == "" {
		return fmt.Errorf("catalog: settle replica of torrent %d on node %q: no data directory", id, db.NodeID())
	}
	if _, err := db.pool.Exec(ctx, `UPDATE replicas SET data_dir = $3, updated_at = now(), progress_at = now()
		WHERE torrent_id = $1 AND node_id = $2 AND data_dir = ''`, id, db.NodeID(), dataDir); err != nil {
		return fmt.Errorf("catalog: settle replica of torrent %d on node %q: %w", id, db.NodeID(), err)
	}
	return nil
}

// SettleReplicas sets the data directories of this node's replicas of
// torrents ids (dirs in the same order), placed without one, in one
// statement (see SettleReplica).
func (db *DB) SettleReplicas(ctx context.Context, ids []int64, dirs []string) error {
	if len(ids) != len(dirs) {
		return fmt.Errorf("catalog: settle %d replicas on node %q with %d data directories", len(ids), db.NodeID(), len(dirs))
	}
	if len(ids) == 0 {
		return nil
	}
	for i, d := range dirs {
		if d == "" {
			return fmt.Errorf("catalog: settle replica of torrent %d on node %q: no data directory", ids[i], db.NodeID())
		}
	}
	if _, err := db.pool.Exec(ctx, `UPDATE replicas r SET data_dir = s.dir, updated_at = now(), progress_at = now()
		FROM unnest($2::bigint[], $3::text[]) AS s (id, dir)
		WHERE r.torrent_id = s.id AND r.node_id = $1 AND r.data_dir = ''`, db.NodeID(), ids, dirs); err != nil {
		return fmt.Errorf("catalog: settle %d replicas on node %q: %w", len(ids), db.NodeID(), err)
	}
	return nil
}
