package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Replica is a torrent on one node: where that node keeps the data and
// what it observes of its copy. A replicas row also means "this torrent
// belongs on this node": a node's engine runs its own replicas only.
type Replica struct {
	TorrentID          int64             `json:"torrent_id"`
	Node               string            `json:"node"`
	DataDir            string            `json:"data_dir"`
	Availability       Availability      `json:"availability"`
	AvailabilityCause  AvailabilityCause `json:"availability_cause,omitempty"`
	AvailabilityReason string            `json:"availability_reason,omitempty"`
	Uploaded           int64             `json:"uploaded_bytes"`
	Downloaded         int64             `json:"downloaded_bytes"`
	PiecesComplete     int64             `json:"pieces_complete"`
	AddedAt            time.Time         `json:"added_at"`
	CompletedAt        *time.Time        `json:"completed_at,omitempty"`
	// LastScrub is the result of the replica's newest verified range
	// ("ok", "failed"), empty when never verified.
	LastScrub string `json:"last_scrub,omitempty"`
	// Address is the node's BitTorrent address when the catalog knows it.
	Address string `json:"address,omitempty"`
	// Removing: the planner marked it for removal, with why (its node
	// drops it, see "Trim and drain" in docs/ARCHITECTURE.md).
	Removing       bool   `json:"removing,omitempty"`
	RemovingReason string `json:"removing_reason,omitempty"`
}

// AddReplica records that torrent id belongs on this handle's node with
// its data in dataDir; a replica that exists is left as it is. It reports
// whether it added one.
func (db *DB) AddReplica(ctx context.Context, id int64, dataDir string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO replicas (torrent_id, node_id, data_dir) VALUES ($1, $2, $3)
		ON CONFLICT (torrent_id, node_id) DO NOTHING`, id, db.NodeID(), dataDir)
	if isForeignKeyViolation(err) {
		return false, fmt.Errorf("catalog: add replica of torrent %d on node %q: %w", id, db.NodeID(), ErrTorrentGone)
	}
	if err != nil {
		return false, fmt.Errorf("catalog: add replica of torrent %d on node %q: %w", id, db.NodeID(), err)
	}
	return tag.RowsAffected() == 1, nil
}

func insertReplica(ctx context.Context, tx pgx.Tx, id int64, node, dataDir string) error {
	_, err := tx.Exec(ctx, `INSERT INTO replicas (torrent_id, node_id, data_dir) VALUES ($1, $2, $3)`, id, node, dataDir)
	return err
}

// Replicas lists a torrent's replicas, by node.
func (db *DB) Replicas(ctx context.Context, torrentID int64) ([]Replica, error) {
	rows, err := db.pool.Query(ctx, `SELECT r.torrent_id, r.node_id, r.data_dir, r.availability, r.availability_cause,
		r.availability_reason, r.uploaded_bytes, r.downloaded_bytes,
		coalesce((SELECT sum(bit_count(p.complete)) FROM piece_chunks p WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id), 0)::bigint,
		r.added_at, r.completed_at,
		coalesce((SELECT v.last_result FROM verify_ranges v WHERE v.torrent_id = r.torrent_id AND v.node_id = r.node_id
			AND v.last_verified_at IS NOT NULL ORDER BY v.last_verified_at DESC LIMIT 1), ''),
		r.remove_at IS NOT NULL, r.remove_reason
		FROM replicas r WHERE r.torrent_id = $1 ORDER BY r.node_id`, torrentID)
	if err != nil {
		return nil, fmt.Errorf("catalog: list replicas of torrent %d: %w", torrentID, err)
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Replica, error) {
		var r Replica
		return r, row.Scan(&r.TorrentID, &r.Node, &r.DataDir, &r.Availability, &r.AvailabilityCause, &r.AvailabilityReason,
			&r.Uploaded, &r.Downloaded, &r.PiecesComplete, &r.AddedAt, &r.CompletedAt, &r.LastScrub,
			&r.Removing, &r.RemovingReason)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list replicas of torrent %d: %w", torrentID, err)
	}
	return rs, nil
}

// unclaimedTables hold per-replica rows keyed by (torrent_id, node_id).
var unclaimedTables = []string{"piece_chunks", "verify_ranges", "findings", "engine_states"}

// claimUnowned gives node the replicas of the unclaimed node "" (rows
// carried over from a catalog no node had served, or written through an
// unbound handle) that node does not hold already.
func claimUnowned(ctx context.Context, tx pgx.Tx, node string) (int64, error) {
	if node == "" {
		return 0, nil
	}
	rows, err := tx.Query(ctx, `UPDATE replicas r SET node_id = $1 WHERE r.node_id = ''
		AND NOT EXISTS (SELECT 1 FROM replicas m WHERE m.torrent_id = r.torrent_id AND m.node_id = $1)
		RETURNING r.torrent_id`, node)
	if err != nil {
		return 0, fmt.Errorf("claim unowned replicas: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	for _, t := range unclaimedTables {
		if _, err := tx.Exec(ctx, `UPDATE `+t+` SET node_id = $1 WHERE node_id = '' AND torrent_id = ANY($2)`, node, ids); err != nil {
			return 0, fmt.Errorf("claim unowned %s: %w", t, err)
		}
	}
	return int64(len(ids)), nil
}

// ClaimUnowned gives this handle's node the unclaimed replicas (see
// claimUnowned); the seeder calls it on each full reconcile so torrents
// added through an unbound handle are not left without a node.
func (db *DB) ClaimUnowned(ctx context.Context) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = claimUnowned(ctx, tx, db.NodeID())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("catalog: node %q: %w", db.NodeID(), err)
	}
	return n, nil
}

// ReplicaNodes lists, per torrent, the nodes that hold a replica of it.
func (db *DB) ReplicaNodes(ctx context.Context) (map[int64][]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT torrent_id, array_agg(node_id ORDER BY node_id) FROM replicas GROUP BY torrent_id`)
	if err != nil {
		return nil, fmt.Errorf("catalog: list replica nodes: %w", err)
	}
	out := map[int64][]string{}
	var id int64
	var nodes []string
	_, err = pgx.ForEachRow(rows, []any{&id, &nodes}, func() error {
		out[id] = append([]string(nil), nodes...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list replica nodes: %w", err)
	}
	return out, nil
}
