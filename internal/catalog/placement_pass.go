package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// PlanNode is a node as the planner sees it. A replica counts as a copy
// while its node is in (not out) and not draining, and the replica is not
// unavailable.
type PlanNode struct {
	ID   string
	Zone string
	Up   bool
	// Target: up, active (not draining or in maintenance) and in: the
	// planner may place replicas on it.
	Target bool
	// FreeBytes sums its data roots' file systems' free space (each once);
	// PendingBytes is what the replicas placed on it still have to fetch.
	FreeBytes    int64
	PendingBytes int64
	// Recovering counts the replicas placed on it by the planner that are
	// not complete yet (fetching, or waiting to be settled): the planner
	// places at most fleet.max_recoveries_per_node of them at a time.
	Recovering int
}

// PlanTorrent is a torrent with fewer copies than its replicas_min.
type PlanTorrent struct {
	ID          int64
	Name        string
	TotalLength int64
	Min         int
	// Copies are the nodes whose replica counts; Holders every node with a
	// replicas row (a counting one or not): none gets a second.
	Copies  []string
	Holders []string
}

// Lost reports a torrent under its min because a replica stopped
// counting (its node out or draining, or the replica unavailable), not
// because it was never placed.
func (t PlanTorrent) Lost() bool { return len(t.Holders) > len(t.Copies) }

// PlanPlacement puts a replica of TorrentID on Node.
type PlanPlacement struct {
	TorrentID int64  `json:"torrent_id"`
	Node      string `json:"node"`
}

// copySQL is whether replica r (nodes row n, LEFT JOINed) counts as a copy:
// available, not marked for removal, on a node not out and not draining. A node with no row (the
// unclaimed node ”, or one a test or tool wrote for) is not known out.
const copySQL = `(r.availability <> 'unavailable' AND r.remove_at IS NULL AND (n.id IS NULL OR (n.out_at IS NULL AND n.admin_state <> 'draining')))`

// PlanPass runs one placement pass as holder, who must lead the planner:
// choose gets the nodes and the torrents under their replicas_min (active,
// with metadata; fewest copies first) and returns the placements to make,
// which are inserted (data_dir ”: the receiving node chooses it) in the
// same transaction. It returns the placements inserted.
func (db *DB) PlanPass(ctx context.Context, holder string, choose func([]PlanNode, []PlanTorrent) []PlanPlacement) ([]PlanPlacement, error) {
	var done []PlanPlacement
	err := db.asLeader(ctx, holder, func(tx pgx.Tx) error {
		nodes, err := planNodes(ctx, tx)
		if err != nil {
			return fmt.Errorf("read nodes: %w", err)
		}
		under, err := underReplicated(ctx, tx)
		if err != nil {
			return fmt.Errorf("read torrents under replicas_min: %w", err)
		}
		if len(under) == 0 {
			return nil
		}
		for _, p := range choose(nodes, under) {
			tag, err := tx.Exec(ctx, `INSERT INTO replicas (torrent_id, node_id, data_dir, placed_by) VALUES ($1, $2, '', $3)
				ON CONFLICT (torrent_id, node_id) DO NOTHING`, p.TorrentID, p.Node, holder)
			if err != nil {
				return fmt.Errorf("place torrent %d on node %q: %w", p.TorrentID, p.Node, err)
			}
			if tag.RowsAffected() == 1 {
				done = append(done, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: placement pass: %w", err)
	}
	return done, nil
}

func planNodes(ctx context.Context, tx pgx.Tx) ([]PlanNode, error) {
	rows, err := tx.Query(ctx, `SELECT n.id, n.zone, `+nodeUpSQL+`,
		`+nodeUpSQL+` AND n.admin_state = 'active' AND n.out_at IS NULL,
		coalesce((SELECT sum(f) FROM (SELECT DISTINCT ON (d.device) d.free_bytes AS f FROM node_data_roots d
			WHERE d.node_id = n.id AND d.error = '' ORDER BY d.device, d.path) x), 0)::bigint,
		coalesce((SELECT sum(greatest(t.total_length - coalesce((SELECT sum(bit_count(p.complete)) FROM piece_chunks p
			WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id), 0) * t.piece_length, 0))
			FROM replicas r JOIN torrents t ON t.id = r.torrent_id WHERE r.node_id = n.id AND r.placed_by <> ''), 0)::bigint,
		(SELECT count(*) FROM replicas r JOIN torrents t ON t.id = r.torrent_id WHERE r.node_id = n.id AND r.placed_by <> ''
			AND t.state <> 'removed' AND coalesce((SELECT sum(bit_count(p.complete)) FROM piece_chunks p
			WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id), 0) < coalesce(t.piece_count, 1))::int
		FROM nodes n ORDER BY n.id`, NodeUpTTL.Seconds())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlanNode])
}

func underReplicated(ctx context.Context, tx pgx.Tx) ([]PlanTorrent, error) {
	rows, err := tx.Query(ctx, `SELECT t.id, t.name, coalesce(t.total_length, 0), coalesce(t.replicas_min, c.replicas_min),
		coalesce(array_agg(r.node_id ORDER BY r.node_id) FILTER (WHERE r.node_id IS NOT NULL AND `+copySQL+`), '{}'),
		coalesce(array_agg(r.node_id ORDER BY r.node_id) FILTER (WHERE r.node_id IS NOT NULL), '{}')
		FROM torrents t JOIN collections c ON c.id = t.collection_id
		LEFT JOIN replicas r ON r.torrent_id = t.id LEFT JOIN nodes n ON n.id = r.node_id
		WHERE t.state = 'active' AND c.state = 'active' AND t.metainfo IS NOT NULL
		GROUP BY t.id, c.replicas_min
		HAVING count(r.node_id) FILTER (WHERE `+copySQL+`) < coalesce(t.replicas_min, c.replicas_min)
		ORDER BY count(r.node_id) FILTER (WHERE `+copySQL+`), t.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlanTorrent])
}
