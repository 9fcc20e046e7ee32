package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// fleetNode registers node id as up in zone with free bytes on one data root.
func fleetNode(t *testing.T, db *catalog.DB, id, zone string, free int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.StartNode(ctx, id, "h"); err != nil {
		t.Fatal(err)
	}
	if err := db.HeartbeatNode(ctx, id, catalog.NodeInfo{Zone: zone}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetNodeDataRoots(ctx, id, []catalog.NodeDataRoot{{Path: "/srv/" + id, Device: "dev-" + id,
		CapacityBytes: free * 2, FreeBytes: free}}); err != nil {
		t.Fatal(err)
	}
}

// replicaMap is every replicas row as torrent id -> sorted node ids.
func replicaMap(t *testing.T, db *catalog.DB) map[int64][]string {
	t.Helper()
	m, err := db.ReplicaNodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range m {
		sort.Strings(ns)
	}
	return m
}

func choose(ns []catalog.PlanNode, ts []catalog.PlanTorrent) []catalog.PlanPlacement {
	return fleet.Choose(ns, ts, fleet.Options{})
}

func TestPlannerLeaseIsTakenOverOnlyAfterItExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	lead := func(h string, ttl time.Duration) bool {
		ok, err := db.LeadPlanner(ctx, h, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !lead("a", time.Minute) || lead("b", time.Minute) || !lead("a", 2*time.Second) {
		t.Fatal("a takes the lease and renews it, b cannot take it while it lasts")
	}
	if _, err := db.PlanPass(ctx, "b", 0, choose); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("b's pass while a leads: %v, want ErrNotLeader", err)
	}
	if _, err := db.MarkNodesOut(ctx, "b", []string{"x"}, "r"); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("b marks out while a leads: %v, want ErrNotLeader", err)
	}
	// a dies (stops renewing): b leads once the lease expired.
	testutil.Eventually(t, 30*time.Second, "b to take the expired lease", func() bool { return lead("b", time.Minute) })
	if h, err := db.PlannerLeader(ctx); err != nil || h != "b" {
		t.Fatalf("leader %q (%v), want b", h, err)
	}
	if _, err := db.PlanPass(ctx, "a", 0, choose); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("a's pass after b took over: %v, want ErrNotLeader", err)
	}
	if lead("a", time.Minute) {
		t.Fatal("a took the lease back from b")
	}
	if err := db.ResignPlanner(ctx, "b"); err != nil || !lead("a", time.Minute) {
		t.Fatalf("after b resigns a leads at once (%v)", err)
	}
}

// Two planners run passes concurrently, leadership moving between them:
// every torrent ends with exactly replicas_min replicas, none doubled.
func TestConcurrentPlannersNeverDoublePlacements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 3, ReplicasMax: 3}); err != nil {
		t.Fatal(err)
	}
	for i, z := range []string{"z1", "z1", "z2", "z2", "z3"} {
		fleetNode(t, db, fmt.Sprintf("n%d", i), z, 1<<40)
	}
	a := db.ForNode("n0")
	for i := range 30 {
		if _, err := a.AddTorrent(ctx, newTorrent("c", byte(i+1), 4)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	placed := make([]int, 2)
	for i, h := range []string{"n1", "n2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				ok, err := db.LeadPlanner(ctx, h, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				ps, err := db.PlanPass(ctx, h, 0, choose)
				switch {
				case ok && err != nil && !errors.Is(err, catalog.ErrNotLeader):
					t.Error(err)
					return
				case !ok && err == nil:
					t.Errorf("%s passed without the lease", h)
					return
				}
				placed[i] += len(ps)
				if ok {
					_ = db.ResignPlanner(ctx, h) // let the other one lead
				}
			}
		}()
	}
	wg.Wait()
	m := replicaMap(t, db)
	for id, ns := range m {
		if len(ns) != 3 {
			t.Errorf("torrent %d on %v, want exactly 3 nodes", id, ns)
		}
	}
	if len(m) != 30 || placed[0]+placed[1] != 60 {
		t.Fatalf("%d torrents, %d+%d placements, want 30 torrents, 60 placements", len(m), placed[0], placed[1])
	}
}

// Zones first: a torrent on z1 goes to other zones before z1's node with
// the most room; among those, most room first. A node without room for
// it, or whose room the pass already gave to another torrent, gets
// nothing, nor does a draining node.
func TestPlacementSpreadsZonesFirstAndNeedsRoom(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 3}); err != nil {
		t.Fatal(err)
	}
	size := int64(4) << 18 // newTorrent(_, _, 4)
	fleetNode(t, db, "a", "z1", 1<<40)
	fleetNode(t, db, "b", "z1", 1<<50) // most room, a's zone
	fleetNode(t, db, "c", "z2", 1<<30)
	fleetNode(t, db, "e", "z3", size-1)  // no room
	fleetNode(t, db, "f", "z4", size+10) // room for one
	fleetNode(t, db, "g", "z5", 1<<40)   // draining
	if _, err := db.SetNodeAdmin(ctx, "g", catalog.NodeActive, catalog.NodeDraining, "t"); err != nil {
		t.Fatal(err)
	}
	a := db.ForNode("a")
	one, err := a.AddTorrent(ctx, newTorrent("c", 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	two, err := a.AddTorrent(ctx, newTorrent("c", 2, 4))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.LeadPlanner(ctx, "a", time.Minute); !ok || err != nil {
		t.Fatalf("lead: %v %v", ok, err)
	}
	if _, err := db.PlanPass(ctx, "a", 0, choose); err != nil {
		t.Fatal(err)
	}
	m := replicaMap(t, db)
	// one: other zones c and f; two: c, then f is full, so z1's b.
	if got := fmt.Sprint(m[one.ID], m[two.ID]); got != "[a c f] [a b c]" {
		t.Fatalf("placements %s, want [a c f] [a b c]", got)
	}
	// f's room is now pending for one's download: a third torrent gets c and b, not f.
	three, err := a.AddTorrent(ctx, newTorrent("c", 3, 4))
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := db.PlanPass(ctx, "a", 0, choose); err != nil || len(ps) != 2 {
		t.Fatalf("third torrent's pass placed %v (%v)", ps, err)
	}
	if got := fmt.Sprint(replicaMap(t, db)[three.ID]); got != "[a b c]" {
		t.Fatalf("third torrent on %s, want [a b c]", got)
	}
	// Another pass places nothing more: every torrent is at its min.
	if ps, err := db.PlanPass(ctx, "a", 0, choose); err != nil || len(ps) != 0 {
		t.Fatalf("pass over torrents at their min placed %v (%v)", ps, err)
	}
}
