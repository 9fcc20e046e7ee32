package catalog

import (
	"context"
	"fmt"
	"slices"
	"time"

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
	// FreeBytes sums its data roots' file systems' free space (each once),
	// less what its stalled replicas still lack (kept for them: they fetch
	// again when a source is back); PendingBytes is what the replicas
	// placed on it and not stalled still have to fetch.
	FreeBytes    int64
	PendingBytes int64
	// Recovering counts the replicas placed on it by the planner that are
	// not complete yet (fetching, or waiting to be settled) and not
	// stalled: the planner places at most fleet.max_recoveries_per_node of
	// them at a time.
	Recovering int
	// Stalled counts its placed replicas not complete whose pieces
	// complete have not grown for fleet.recovery_stall_after (see
	// StalledSQL): they stay placed but count neither in Recovering nor
	// in PendingBytes.
	Stalled int
	// Partners: for each other node, the total length of the torrents
	// both hold a replica of (not marked for removal). PlanPass reads it
	// only when a torrent needs a copy that is not a recovery; nil
	// otherwise.
	Partners map[string]int64 `db:"-"`
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

// copyNoJoinSQL is copySQL with the nodes out or draining given as the
// array bad.ids instead of a join with nodes.
const copyNoJoinSQL = `(r.availability <> 'unavailable' AND r.remove_at IS NULL AND NOT r.node_id = ANY(bad.ids))`

// PlanPass runs one placement pass as holder, who must lead the planner:
// choose gets the nodes (with their Partners when a torrent needs a copy
// that is not a recovery) and the torrents under their replicas_min
// (active, with metadata; fewest copies first) and returns the placements to make,
// which are inserted (data_dir ”: the receiving node chooses it) in the
// same transaction. It returns the placements inserted. stall is
// fleet.recovery_stall_after (0 = a placed replica never stalls).
func (db *DB) PlanPass(ctx context.Context, holder string, stall time.Duration,
	choose func([]PlanNode, []PlanTorrent) []PlanPlacement) ([]PlanPlacement, error) {
	var done []PlanPlacement
	err := db.asLeader(ctx, holder, func(tx pgx.Tx) error {
		nodes, err := planNodes(ctx, tx, stall)
		if err != nil {
			return fmt.Errorf("read nodes: %w", err)
		}
		var under []PlanTorrent
		err = withoutNestLoop(ctx, tx, func() (err error) {
			under, err = underReplicated(ctx, tx)
			return err
		})
		if err != nil {
			return fmt.Errorf("read torrents under replicas_min: %w", err)
		}
		if len(under) == 0 {
			return nil
		}
		if slices.ContainsFunc(under, func(t PlanTorrent) bool { return !t.Lost() }) {
			err = withoutNestLoop(ctx, tx, func() error { return readPartners(ctx, tx, nodes) })
			if err != nil {
				return fmt.Errorf("read the bytes nodes hold in common: %w", err)
			}
		}
		done, err = insertPlacements(ctx, tx, holder, choose(nodes, under))
		if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: placement pass: %w", err)
	}
	return done, nil
}

// withoutNestLoop runs fn, statements of tx over every replica, with
// nested-loop joins off: just after a bulk load, before autovacuum has
// analyzed the tables, the planner took the per-torrent counts for a few
// rows and joined them to torrents in a nested loop (100,000 x 100,000
// comparisons: a trim pass ran for minutes instead of one second).
// Hash and merge joins read each side once whatever the estimates.
func withoutNestLoop(ctx context.Context, tx pgx.Tx, fn func() error) error {
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `RESET enable_nestloop`)
	return err
}

// insertPlacements inserts placements ps (one statement for all) and
// returns those inserted (not already there), in the order of ps.
func insertPlacements(ctx context.Context, tx pgx.Tx, holder string, ps []PlanPlacement) ([]PlanPlacement, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(ps))
	nodes := make([]string, len(ps))
	for i, p := range ps {
		ids[i], nodes[i] = p.TorrentID, p.Node
	}
	rows, err := tx.Query(ctx, `INSERT INTO replicas (torrent_id, node_id, data_dir, placed_by)
		SELECT id, node, '', $3 FROM unnest($1::bigint[], $2::text[]) AS p (id, node)
		ON CONFLICT (torrent_id, node_id) DO NOTHING RETURNING torrent_id, node_id`, ids, nodes, holder)
	if err != nil {
		return nil, fmt.Errorf("place %d replicas: %w", len(ps), err)
	}
	ins := map[PlanPlacement]bool{}
	var p PlanPlacement
	if _, err := pgx.ForEachRow(rows, []any{&p.TorrentID, &p.Node}, func() error {
		ins[p] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("place %d replicas: %w", len(ps), err)
	}
	var done []PlanPlacement
	for _, p := range ps {
		if ins[p] {
			done = append(done, p)
			delete(ins, p) // a placement given twice is inserted once
		}
	}
	return done, nil
}

// planNodes reads the nodes. What the replicas placed on each still have
// to fetch is summed in one pass over the placed replicas not complete
// (replicas.completed_at not set, an index on them): a complete one lacks
// nothing and does not recover, and its pieces are not read. The stalled
// ones (stall: fleet.recovery_stall_after) are counted apart.
func planNodes(ctx context.Context, tx pgx.Tx, stall time.Duration) ([]PlanNode, error) {
	rows, err := tx.Query(ctx, `WITH placed AS (
		SELECT r.node_id, greatest(t.total_length - coalesce(d.done, 0) * t.piece_length, 0) AS left_bytes,
			t.state <> 'removed' AND coalesce(d.done, 0) < coalesce(t.piece_count, 1) AS recovering,
			`+StalledSQL("d.grown", "$2")+` AS stalled
		FROM replicas r JOIN torrents t ON t.id = r.torrent_id
		LEFT JOIN LATERAL (SELECT sum(bit_count(p.complete)) AS done, max(p.grown_at) AS grown FROM piece_chunks p
			WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) d ON true
		WHERE r.placed_by <> '' AND r.completed_at IS NULL),
	per AS (
		SELECT node_id, sum(left_bytes) FILTER (WHERE NOT stalled) AS pending,
			sum(left_bytes) FILTER (WHERE stalled) AS stalled_bytes,
			count(*) FILTER (WHERE recovering AND NOT stalled) AS recovering,
			count(*) FILTER (WHERE recovering AND stalled) AS stalled
		FROM placed GROUP BY node_id)
	SELECT n.id, n.zone, `+nodeUpSQL+`,
		`+nodeUpSQL+` AND n.admin_state = 'active' AND n.out_at IS NULL,
		coalesce((SELECT sum(f) FROM (SELECT DISTINCT ON (d.device) d.free_bytes AS f FROM node_data_roots d
			WHERE d.node_id = n.id AND d.error = '' ORDER BY d.device, d.path) x), 0)::bigint - coalesce(per.stalled_bytes, 0)::bigint,
		coalesce(per.pending, 0)::bigint, coalesce(per.recovering, 0)::int, coalesce(per.stalled, 0)::int
	FROM nodes n LEFT JOIN per ON per.node_id = n.id ORDER BY n.id`, NodeUpTTL.Seconds(), stall.Seconds())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlanNode])
}

// underReplicated reads the torrents under their replicas_min. The copies
// are counted per torrent from the replicas alone (the nodes out or
// draining, a handful, are one array: no join per replica), the node
// lists read for the torrents under their min only.
func underReplicated(ctx context.Context, tx pgx.Tx) ([]PlanTorrent, error) {
	rows, err := tx.Query(ctx, `WITH bad AS (
		SELECT coalesce(array_agg(id), '{}') AS ids FROM nodes WHERE out_at IS NOT NULL OR admin_state = 'draining'),
	cnt AS (
		SELECT r.torrent_id, count(*) FILTER (WHERE `+copyNoJoinSQL+`) AS copies FROM replicas r, bad GROUP BY r.torrent_id),
	under AS (
		SELECT t.id, t.name, coalesce(t.total_length, 0) AS len, coalesce(t.replicas_min, c.replicas_min) AS rmin,
			coalesce(cnt.copies, 0) AS copies
		FROM torrents t JOIN collections c ON c.id = t.collection_id LEFT JOIN cnt ON cnt.torrent_id = t.id
		WHERE t.state = 'active' AND c.state = 'active' AND t.metainfo IS NOT NULL
			AND coalesce(cnt.copies, 0) < coalesce(t.replicas_min, c.replicas_min))
	SELECT u.id, u.name, u.len, u.rmin,
		coalesce(array_agg(r.node_id ORDER BY r.node_id) FILTER (WHERE r.node_id IS NOT NULL AND `+copyNoJoinSQL+`), '{}'),
		coalesce(array_agg(r.node_id ORDER BY r.node_id) FILTER (WHERE r.node_id IS NOT NULL), '{}')
	FROM under u CROSS JOIN bad LEFT JOIN replicas r ON r.torrent_id = u.id
	GROUP BY u.id, u.name, u.len, u.rmin, u.copies
	ORDER BY u.copies, u.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlanTorrent])
}
