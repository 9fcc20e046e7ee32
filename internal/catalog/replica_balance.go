package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Rebalance (issue 12, item 5: a node that joins takes its share): the
// planner's leader moves replicas from over-full nodes to under-full ones.
// A move is a replica placed on the target with replicas.move_from naming
// the source; once the target's copy is complete the source's copy is
// marked for removal (the trim and drain path: remove_at) and move_from
// is cleared. The choice is fleet.PlanBalance's; see docs/ARCHITECTURE.md,
// "Rebalance".

// BalanceNode is a node as the rebalance sees it.
type BalanceNode struct {
	PlanNode
	// In: not out. Admin: active, draining or maintenance.
	In    bool
	Admin NodeAdmin
	// CapacityBytes sums its data roots' file systems' capacity (each once).
	CapacityBytes int64
	// LoadBytes: the total length of its replicas not marked for removal
	// (complete or not) of torrents not removed.
	LoadBytes int64
}

// Member reports a node the rebalance moves data to and from: up, in and
// active (the placement's Target).
func (n BalanceNode) Member() bool { return n.Target }

// BalanceReplica is one replica of a BalanceTorrent.
type BalanceReplica struct {
	Node string
	// Marked for removal.
	Marked bool
	// MoveFrom: the source node of a move to this replica ('' = not a move).
	MoveFrom string
	// Available: not unavailable. Complete: every piece recorded complete.
	// Damaged: it has findings not repaired. Stalled: placed, not
	// complete, and its pieces complete have not grown for
	// fleet.recovery_stall_after (see StalledSQL).
	Available, Complete, Damaged, Stalled bool
	// Scrub: the result of its most recently verified range ("ok",
	// "failed", "" = never scrubbed).
	Scrub string
}

// BalanceTorrent is a torrent with its replicas (every row, marked or not).
type BalanceTorrent struct {
	ID       int64
	Length   int64
	Min, Max int
	Replicas []BalanceReplica
}

// BalanceMove is a move of TorrentID's copy From one node To another.
type BalanceMove struct {
	TorrentID int64  `json:"torrent_id"`
	From      string `json:"from"`
	To        string `json:"to"`
	Reason    string `json:"reason,omitempty"`
}

// BalancePlan is what a rebalance pass does.
type BalancePlan struct {
	// Start: place a copy on To, a move from From.
	Start []BalanceMove
	// Finish: To's copy is complete: mark From's copy for removal (Reason)
	// and end the move.
	Finish []BalanceMove
	// End: end the move keeping both copies (To's is then an ordinary
	// copy, trimmed as surplus if it is one); Reason says why.
	End []BalanceMove
	// Abandon: mark To's copy for removal (Reason); From's is kept.
	Abandon []BalanceMove
	// InFlight: the torrents with a move in flight after the pass (the
	// trim leaves them alone).
	InFlight []int64
}

// BalanceInput is what a rebalance pass chooses from.
type BalanceInput struct {
	Nodes []BalanceNode
	// Moving: the torrents with a move in flight (a replica with
	// move_from set, not marked).
	Moving []BalanceTorrent
	// Candidates reads up to perSource torrents each source node could
	// give (active, with metadata, its copy unmarked and not itself
	// moving, no move in flight, total length at most the source's bound),
	// largest first, with their replicas.
	Candidates func(sources map[string]int64, perSource int) ([]BalanceTorrent, error)
}

// BalancePass runs one rebalance pass as holder, who must lead the
// planner: choose gets the nodes and the moves in flight and returns the
// plan, which is applied in the same transaction. It returns the plan
// applied (steps that found their rows changed meanwhile left out). stall
// is fleet.recovery_stall_after (0 = a placed replica never stalls).
func (db *DB) BalancePass(ctx context.Context, holder string, stall time.Duration,
	choose func(BalanceInput) (BalancePlan, error)) (BalancePlan, error) {
	var done BalancePlan
	err := db.asLeader(ctx, holder, func(tx pgx.Tx) error {
		// The reads go over every replica: hash joins whatever the
		// statistics (see withoutNestLoop).
		var plan BalancePlan
		err := withoutNestLoop(ctx, tx, func() error {
			nodes, err := balanceNodes(ctx, tx, stall)
			if err != nil {
				return fmt.Errorf("read nodes: %w", err)
			}
			moving, err := movingTorrents(ctx, tx, stall)
			if err != nil {
				return fmt.Errorf("read moves in flight: %w", err)
			}
			plan, err = choose(BalanceInput{Nodes: nodes, Moving: moving,
				Candidates: func(src map[string]int64, per int) ([]BalanceTorrent, error) {
					return moveCandidates(ctx, tx, stall, src, per)
				}})
			return err
		})
		if err != nil {
			return err
		}
		done, err = applyBalance(ctx, tx, holder, plan)
		return err
	})
	if err != nil {
		return BalancePlan{}, fmt.Errorf("catalog: rebalance pass: %w", err)
	}
	return done, nil
}

func applyBalance(ctx context.Context, tx pgx.Tx, holder string, plan BalancePlan) (BalancePlan, error) {
	done := BalancePlan{InFlight: plan.InFlight}
	step := func(what string, m BalanceMove, sql string, args ...any) (bool, error) {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return false, fmt.Errorf("%s of torrent %d from %q to %q: %w", what, m.TorrentID, m.From, m.To, err)
		}
		return tag.RowsAffected() == 1, nil
	}
	for _, m := range plan.Finish {
		ok, err := step("finish the move", m, `UPDATE replicas SET remove_at = now(), remove_reason = $3, updated_at = now()
			WHERE torrent_id = $1 AND node_id = $2 AND remove_at IS NULL`, m.TorrentID, m.From, m.Reason)
		if err != nil {
			return done, err
		}
		if _, err := step("end the move", m, `UPDATE replicas SET move_from = '' WHERE torrent_id = $1 AND node_id = $2`, m.TorrentID, m.To); err != nil {
			return done, err
		}
		if ok {
			done.Finish = append(done.Finish, m)
		}
	}
	for _, m := range plan.End {
		ok, err := step("end the move", m, `UPDATE replicas SET move_from = '' WHERE torrent_id = $1 AND node_id = $2 AND move_from <> ''`, m.TorrentID, m.To)
		if err != nil {
			return done, err
		}
		if ok {
			done.End = append(done.End, m)
		}
	}
	for _, m := range plan.Abandon {
		ok, err := step("abandon the move", m, `UPDATE replicas SET remove_at = now(), remove_reason = $3, move_from = '', updated_at = now()
			WHERE torrent_id = $1 AND node_id = $2 AND remove_at IS NULL`, m.TorrentID, m.To, m.Reason)
		if err != nil {
			return done, err
		}
		if ok {
			done.Abandon = append(done.Abandon, m)
		}
	}
	for _, m := range plan.Start {
		// Only while the source's copy is still there, unmarked.
		ok, err := step("start the move", m, `INSERT INTO replicas (torrent_id, node_id, data_dir, placed_by, move_from)
			SELECT $1, $2, '', $3, $4 WHERE EXISTS (SELECT 1 FROM replicas s WHERE s.torrent_id = $1 AND s.node_id = $4 AND s.remove_at IS NULL)
			ON CONFLICT (torrent_id, node_id) DO NOTHING`, m.TorrentID, m.To, holder, m.From)
		if err != nil {
			return done, err
		}
		if ok {
			done.Start = append(done.Start, m)
		}
	}
	return done, nil
}

// balanceNodes reads every node: planNodes' facts, whether it is in, its
// admin state, capacity and load. The loads are one grouped pass over the
// replicas (not one sum per node).
func balanceNodes(ctx context.Context, tx pgx.Tx, stall time.Duration) ([]BalanceNode, error) {
	pns, err := planNodes(ctx, tx, stall)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `WITH load AS (
		SELECT r.node_id, sum(coalesce(t.total_length, 0)) AS b FROM replicas r JOIN torrents t ON t.id = r.torrent_id
		WHERE r.remove_at IS NULL AND t.state <> 'removed' GROUP BY r.node_id)
	SELECT n.id, n.out_at IS NULL, n.admin_state,
		coalesce((SELECT sum(c) FROM (SELECT DISTINCT ON (d.device) d.capacity_bytes AS c FROM node_data_roots d
			WHERE d.node_id = n.id AND d.error = '' ORDER BY d.device, d.path) x), 0)::bigint,
		coalesce(load.b, 0)::bigint
	FROM nodes n LEFT JOIN load ON load.node_id = n.id ORDER BY n.id`)
	if err != nil {
		return nil, err
	}
	type extra struct {
		ID       string
		In       bool
		Admin    NodeAdmin
		Capacity int64
		Load     int64
	}
	xs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[extra])
	if err != nil {
		return nil, err
	}
	if len(xs) != len(pns) {
		return nil, fmt.Errorf("nodes changed while read (%d then %d)", len(pns), len(xs))
	}
	out := make([]BalanceNode, len(pns))
	for i, p := range pns {
		if xs[i].ID != p.ID {
			return nil, fmt.Errorf("nodes changed while read (%q then %q)", p.ID, xs[i].ID)
		}
		out[i] = BalanceNode{PlanNode: p, In: xs[i].In, Admin: xs[i].Admin, CapacityBytes: xs[i].Capacity, LoadBytes: xs[i].Load}
	}
	return out, nil
}

// movingTorrents reads the torrents with a move in flight.
func movingTorrents(ctx context.Context, tx pgx.Tx, stall time.Duration) ([]BalanceTorrent, error) {
	return balanceTorrents(ctx, tx, stall, `SELECT DISTINCT torrent_id FROM replicas WHERE move_from <> '' AND remove_at IS NULL`)
}

// moveCandidates reads what each source node could give (see
// BalanceInput.Candidates).
func moveCandidates(ctx context.Context, tx pgx.Tx, stall time.Duration, sources map[string]int64, per int) ([]BalanceTorrent, error) {
	if len(sources) == 0 {
		return nil, nil
	}
	var ids []string
	var maxb []int64
	for id, b := range sources {
		ids = append(ids, id)
		maxb = append(maxb, b)
	}
	// The first per of each source: one ranked pass for all sources (a
	// lateral subquery per source would be a nested loop).
	return balanceTorrents(ctx, tx, stall, `SELECT DISTINCT c.id AS torrent_id FROM (
		SELECT t.id, row_number() OVER (PARTITION BY r.node_id ORDER BY t.total_length DESC, t.id) AS rank
		FROM unnest($1::text[], $2::bigint[]) AS s(node, maxb)
		JOIN replicas r ON r.node_id = s.node JOIN torrents t ON t.id = r.torrent_id JOIN collections k ON k.id = t.collection_id
		WHERE r.remove_at IS NULL AND r.move_from = '' AND t.state = 'active' AND k.state = 'active'
			AND t.metainfo IS NOT NULL AND coalesce(t.total_length, 0) BETWEEN 1 AND s.maxb
			AND NOT EXISTS (SELECT 1 FROM replicas m WHERE m.torrent_id = t.id AND m.move_from <> '' AND m.remove_at IS NULL)) c
		WHERE c.rank <= $3`, ids, maxb, per)
}

// balanceTorrents reads the torrents whose ids the query ids (with args)
// gives, each with every replica; stall is fleet.recovery_stall_after,
// the parameter after args.
func balanceTorrents(ctx context.Context, tx pgx.Tx, stall time.Duration, ids string, args ...any) ([]BalanceTorrent, error) {
	stallParam := fmt.Sprintf("$%d", len(args)+1)
	args = append(args, stall.Seconds())
	rows, err := tx.Query(ctx, `WITH ids AS (`+ids+`)
	SELECT t.id, coalesce(t.total_length, 0), coalesce(t.replicas_min, c.replicas_min), coalesce(t.replicas_max, c.replicas_max),
		r.node_id, r.remove_at IS NOT NULL, r.move_from, r.availability <> 'unavailable',
		r.completed_at IS NOT NULL,
		EXISTS (SELECT 1 FROM findings f WHERE f.torrent_id = r.torrent_id AND f.node_id = r.node_id AND f.state <> 'repaired'),
		coalesce((SELECT v.last_result FROM verify_ranges v WHERE v.torrent_id = r.torrent_id AND v.node_id = r.node_id
			AND v.last_verified_at IS NOT NULL ORDER BY v.last_verified_at DESC LIMIT 1), ''),
		CASE WHEN r.placed_by <> '' AND r.completed_at IS NULL THEN `+StalledSQL(grownSQL, stallParam)+` ELSE false END
	FROM ids JOIN torrents t ON t.id = ids.torrent_id JOIN collections c ON c.id = t.collection_id
	JOIN replicas r ON r.torrent_id = t.id
	ORDER BY t.id, r.node_id`, args...)
	if err != nil {
		return nil, err
	}
	var out []BalanceTorrent
	var t BalanceTorrent
	var r BalanceReplica
	_, err = pgx.ForEachRow(rows, []any{&t.ID, &t.Length, &t.Min, &t.Max, &r.Node, &r.Marked, &r.MoveFrom,
		&r.Available, &r.Complete, &r.Damaged, &r.Scrub, &r.Stalled}, func() error {
		if len(out) == 0 || out[len(out)-1].ID != t.ID {
			out = append(out, BalanceTorrent{ID: t.ID, Length: t.Length, Min: t.Min, Max: t.Max})
		}
		last := &out[len(out)-1]
		last.Replicas = append(last.Replicas, r)
		return nil
	})
	return out, err
}

// BalanceNodes reads every node as the rebalance sees it (for fleet
// status), outside a pass; stall is fleet.recovery_stall_after.
func (db *DB) BalanceNodes(ctx context.Context, stall time.Duration) ([]BalanceNode, []BalanceTorrent, error) {
	var nodes []BalanceNode
	var moving []BalanceTorrent
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		return withoutNestLoop(ctx, tx, func() error {
			var err error
			if nodes, err = balanceNodes(ctx, tx, stall); err != nil {
				return err
			}
			moving, err = movingTorrents(ctx, tx, stall)
			return err
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: read the fleet's balance: %w", err)
	}
	return nodes, moving, nil
}
