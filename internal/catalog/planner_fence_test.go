package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// The fencing of placements by the planner lease. A leader whose lease
// expired places nothing, even with no other leader yet. A pass that
// began while its holder led holds the lease row locked until it commits:
// its lease expires meanwhile, and another node asking for the lease
// waits on that lock (seen in pg_stat_activity), takes it only once the
// pass's placements are committed, and then honours them (its pass places
// nothing more: every torrent at exactly replicas_min). From then on
// every write of the old leader (place, mark out, trim) is refused.
func TestPlacementPassInFlightFencesTheNextLeader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2}); err != nil {
		t.Fatal(err)
	}
	for i, z := range []string{"z1", "z2", "z3"} {
		fleetNode(t, db, fmt.Sprintf("n%d", i), z, 1<<40)
	}
	n0 := db.ForNode("n0")
	for i := range 10 {
		if _, err := n0.AddTorrent(ctx, newTorrent("c", byte(i+1), 4)); err != nil {
			t.Fatal(err)
		}
	}
	expired := func() bool {
		return pgtest.Int(t, db, `SELECT count(*) FROM leases WHERE name = 'planner' AND expires_at < clock_timestamp()`) == 1
	}

	// An expired lease, not taken by anyone: its holder writes nothing.
	if ok, err := db.LeadPlanner(ctx, "a", 200*time.Millisecond); !ok || err != nil {
		t.Fatalf("a leads: %v %v", ok, err)
	}
	testutil.Eventually(t, 30*time.Second, "a's lease to expire", expired)
	if _, err := db.PlanPass(ctx, "a", 0, choose); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("a's pass on its expired lease: %v, want ErrNotLeader", err)
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM replicas`); n != 10 {
		t.Fatalf("%d replicas after a refused pass, want the 10 of n0", n)
	}

	// a leads again and its pass stops in choose, the lease row locked.
	if ok, err := db.LeadPlanner(ctx, "a", 3*time.Second); !ok || err != nil {
		t.Fatalf("a leads again: %v %v", ok, err)
	}
	inChoose, hold := make(chan struct{}), make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release) // a failed test must not leave a's transaction open
	aDone := make(chan error, 1)
	var aPlaced []catalog.PlanPlacement
	go func() {
		ps, err := db.PlanPass(ctx, "a", 0, func(ns []catalog.PlanNode, ts []catalog.PlanTorrent) []catalog.PlanPlacement {
			close(inChoose)
			<-hold
			return fleet.Choose(ns, ts, fleet.Options{})
		})
		aPlaced = ps
		aDone <- err
	}()
	select {
	case <-inChoose:
	case err := <-aDone:
		t.Fatalf("a's pass ended before choosing: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("a's pass did not reach choose within a minute")
	}
	testutil.Eventually(t, 30*time.Second, "a's lease to expire during its pass", expired)
	bDone := make(chan bool, 1)
	go func() {
		ok, err := db.LeadPlanner(ctx, "b", time.Minute)
		if err != nil {
			t.Error(err)
		}
		bDone <- ok
	}()
	testutil.Eventually(t, 30*time.Second, "b's take-over waiting on the lease row's lock", func() bool {
		return pgtest.Int(t, db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO leases%'`) == 1
	})
	select {
	case ok := <-bDone:
		t.Fatalf("b's take-over returned (%v) while a's pass holds the lease row", ok)
	default:
	}
	release()
	if err := <-aDone; err != nil {
		t.Fatalf("a's pass, begun while it led: %v", err)
	}
	if len(aPlaced) != 10 {
		t.Fatalf("a placed %d replicas, want 10 (one per torrent)", len(aPlaced))
	}
	select {
	case ok := <-bDone:
		if !ok {
			t.Fatal("b did not take the expired lease once a's pass committed")
		}
	case <-time.After(time.Minute):
		t.Fatal("b's take-over still waiting a minute after a's pass committed")
	}
	if h, err := db.PlannerLeader(ctx); err != nil || h != "b" {
		t.Fatalf("leader %q (%v), want b", h, err)
	}

	// b honours a's placements; a is fenced off.
	if ps, err := db.PlanPass(ctx, "b", 0, choose); err != nil || len(ps) != 0 {
		t.Fatalf("b's pass after a's placements placed %v (%v), want nothing", ps, err)
	}
	for id, ns := range replicaMap(t, db) {
		if len(ns) != 2 || ns[0] != "n0" {
			t.Errorf("torrent %d on %v, want n0 and one other node", id, ns)
		}
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM replicas WHERE placed_by = 'a'`); n != 10 {
		t.Fatalf("%d replicas placed by a, want 10", n)
	}
	if _, err := db.PlanPass(ctx, "a", 0, choose); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("a's pass after b took over: %v, want ErrNotLeader", err)
	}
	if _, err := db.MarkNodesOut(ctx, "a", []string{"n1"}, "r"); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("a marks out after b took over: %v, want ErrNotLeader", err)
	}
	if _, err := db.TrimPass(ctx, "a", fleet.ChooseTrim); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("a trims after b took over: %v, want ErrNotLeader", err)
	}
}
