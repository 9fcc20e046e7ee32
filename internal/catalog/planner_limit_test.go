package catalog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/pgtest"
)

// fleet.max_recoveries_per_node: a node fetching that many placed replicas
// gets no more until one completes; the torrents with the fewest copies
// take the free slots first.
func TestPlacementHonoursTheRecoveryLimitMostAtRiskFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 3}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "c", "d"} {
		fleetNode(t, db, n, "z"+n, 1<<40)
	}
	fleetNode(t, db, "b", "zb", 1) // no room for a new replica
	a, b := db.ForNode("a"), db.ForNode("b")
	ids := map[string]int64{}
	// t1..t3 have two copies (a, b), t4 and t5 one (a).
	for i, name := range []string{"t1", "t2", "t3", "t4", "t5"} {
		tor, err := a.AddTorrent(ctx, newTorrent("c", byte(i+1), 4))
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = tor.ID
		if i < 3 {
			if _, err := b.AddReplica(ctx, tor.ID, "/srv/b/"+name); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ok, err := db.LeadPlanner(ctx, "a", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	limited := func(ns []catalog.PlanNode, ts []catalog.PlanTorrent) []catalog.PlanPlacement {
		return fleet.Choose(ns, ts, fleet.Options{MaxRecoveries: 2})
	}
	where := func() string {
		m := replicaMap(t, db)
		return fmt.Sprint(m[ids["t1"]], m[ids["t2"]], m[ids["t3"]], m[ids["t4"]], m[ids["t5"]])
	}
	if ps, err := db.PlanPass(ctx, "a", 0, limited); err != nil || len(ps) != 4 {
		t.Fatalf("first pass placed %v (%v), want 4", ps, err)
	}
	// t4 and t5 (one copy) took c's and d's two slots; t1..t3 wait.
	if got, want := where(), "[a b] [a b] [a b] [a c d] [a c d]"; got != want {
		t.Fatalf("after the first pass: %s, want %s", got, want)
	}
	if ps, err := db.PlanPass(ctx, "a", 0, limited); err != nil || len(ps) != 0 {
		t.Fatalf("pass with every target at its limit placed %v (%v)", ps, err)
	}
	// c completes t4: one slot free on c, for t1 (lowest id of the torrents with two copies).
	if err := db.ForNode("c").SettleReplica(ctx, ids["t4"], "/srv/c/t4"); err != nil {
		t.Fatal(err)
	}
	if err := db.ForNode("c").StorePieces(ctx, map[int64][]catalog.PieceUpdate{ids["t4"]: {{Piece: 0, Complete: true},
		{Piece: 1, Complete: true}, {Piece: 2, Complete: true}, {Piece: 3, Complete: true}}}); err != nil {
		t.Fatal(err)
	}
	if ps, err := db.PlanPass(ctx, "a", 0, limited); err != nil || len(ps) != 1 {
		t.Fatalf("pass after c completed one placed %v (%v), want 1", ps, err)
	}
	if got, want := where(), "[a b c] [a b] [a b] [a c d] [a c d]"; got != want {
		t.Fatalf("after c completed t4: %s, want %s", got, want)
	}
	// Unbounded (0), the rest is placed at once.
	if ps, err := db.PlanPass(ctx, "a", 0, choose); err != nil || len(ps) != 2 {
		t.Fatalf("unbounded pass placed %v (%v), want 2", ps, err)
	}
}
