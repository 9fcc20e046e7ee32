package fleet

import (
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// Stalled recoveries (fleet.recovery_stall_after) free their node's
// recovery slots and stop holding the rebalance: x and y, the nodes
// holding T1 and T2, stop (x is set out), so the recoveries of T1 and T2
// placed on s and w (one slot each) cannot complete. A new recovery (T7,
// whose other copy is on w) waits while s's slot is taken; once the two
// have made no progress for longer than the stall time (their progress
// timestamps moved back an hour), T7 is placed on s. With T7 fetched, a
// node n joins: only the stalled recoveries are left, and a rebalance
// move to n starts. A piece of T1 arriving makes it count again: s
// recovers one replica and the rebalance is held again, also once the
// move to n has stalled in turn.
func TestStalledRecoveriesFreeTheirSlots(t *testing.T) {
	t.Parallel()
	s := newSim(t, Policy{MaxRecoveriesPerNode: 1, StallAfter: time.Hour}, catalog.Collection{Name: "c", ReplicasMin: 2, ReplicasMax: 2})
	if _, err := s.db.SetFleetFlag(s.ctx, catalog.FlagNoRebalance, "t", "test"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"x", "y", "s", "w"} {
		s.join(id, "z", 1<<40)
	}
	s.join("q", "z", 1) // no room: it takes no recovery
	copyOn := func(node string, id int64) {
		t.Helper()
		s.exec(`INSERT INTO replicas (torrent_id, node_id, data_dir) VALUES ($1, $2, '/srv/' || $2 || '/t' || $1::bigint)`, id, node)
		s.complete(node, id)
	}
	t1, t2 := s.add("c", "x", 4), s.add("c", "x", 4)
	copyOn("y", t1)
	copyOn("y", t2)
	for range 4 {
		copyOn("w", s.add("c", "s", 4))
	}
	t7 := s.add("c", "q", 4)
	copyOn("w", t7)
	s.pass()
	placedOn := func(id int64) string {
		t.Helper()
		return pgtest.String(t, s.db, `SELECT coalesce(string_agg(node_id, ' ' ORDER BY node_id), '') FROM replicas
			WHERE torrent_id = $1 AND placed_by <> ''`, id)
	}
	s.stop("x")
	s.stop("y")
	if _, err := s.db.SetNodeOut(s.ctx, "x", true, "t"); err != nil {
		t.Fatal(err)
	}
	s.pass()
	if a, b := placedOn(t1), placedOn(t2); a != "s" || b != "w" {
		t.Fatalf("recoveries of T1, T2 placed on %q, %q; want s, w", a, b)
	}
	s.nodeStep("s")
	s.nodeStep("w")
	s.stop("q")
	if _, err := s.db.SetNodeOut(s.ctx, "q", true, "t"); err != nil {
		t.Fatal(err)
	}
	s.pass()
	if p := placedOn(t7); p != "" {
		t.Fatalf("T7 placed on %q while s's one slot is taken by T1, fetching", p)
	}
	// An hour without progress: T1 and T2 are stalled.
	s.exec(`UPDATE replicas SET progress_at = now() - interval '2 hours' WHERE placed_by <> ''`)
	s.pass()
	if p := placedOn(t7); p != "s" {
		t.Fatalf("T7 placed on %q, want s: its stalled recovery no longer takes the slot", p)
	}
	s.nodeStep("s")
	s.fetch(-1)
	if n := pgtest.Int(t, s.db, `SELECT count(*) FROM replicas WHERE placed_by <> '' AND completed_at IS NULL`); n != 2 {
		t.Fatalf("%d placed replicas not complete, want 2 (T1, T2: no source up): %s", n, s.replicas())
	}
	// n joins: the stalled recoveries do not hold the rebalance.
	if _, err := s.db.UnsetFleetFlag(s.ctx, catalog.FlagNoRebalance); err != nil {
		t.Fatal(err)
	}
	s.join("n", "z", 1<<40)
	s.pass()
	if n := pgtest.Int(t, s.db, `SELECT count(*) FROM replicas WHERE move_from <> '' AND node_id = 'n'`); n != 1 {
		t.Fatalf("%d moves to n, want 1 (the stalled recoveries must not hold the rebalance): %s", n, s.replicas())
	}
	view := func() (catalog.BalanceNode, bool) {
		t.Helper()
		ns, mv, err := s.db.BalanceNodes(s.ctx, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.ID == "s" {
				return n, RecoveryFetching(catalog.BalanceInput{Nodes: ns, Moving: mv})
			}
		}
		t.Fatal("no node s")
		return catalog.BalanceNode{}, false
	}
	if n, held := view(); n.Recovering != 0 || n.Stalled != 1 || held {
		t.Fatalf("s before T1 progresses: recovering %d, stalled %d, rebalance held %v; want 0, 1, false", n.Recovering, n.Stalled, held)
	}
	// A piece of T1 arrives on s: it is fetching again.
	if err := s.db.ForNode("s").StorePieces(s.ctx, map[int64][]catalog.PieceUpdate{t1: {{Piece: 0, Complete: true}}}); err != nil {
		t.Fatal(err)
	}
	if n, held := view(); n.Recovering != 1 || n.Stalled != 0 || !held {
		t.Fatalf("s after a piece of T1: recovering %d, stalled %d, rebalance held %v; want 1, 0, true", n.Recovering, n.Stalled, held)
	}
	// The move to n stalls too: it is neither counted nor discounted, and
	// T1's recovery still holds the rebalance.
	s.exec(`UPDATE replicas SET progress_at = now() - interval '2 hours' WHERE node_id = 'n'`)
	if _, held := view(); !held {
		t.Fatal("a stalled move discounted from T1's recovery, fetching: the rebalance is not held")
	}
}
