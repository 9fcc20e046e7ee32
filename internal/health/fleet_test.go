package health

import (
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// NODE_DOWN and FLEET_OUT_HELD follow the nodes: a node stopping raises
// NODE_DOWN; down past the interval with the guard holding it (1 of 3
// nodes is over 25%) raises FLEET_OUT_HELD; starting again clears both.
// With a share that allows it, no hold; marked out clears NODE_DOWN.
func TestNodeDownAndOutHeldFollowTheNodes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	for _, n := range []string{"a", "b", "c"} {
		if _, err := db.StartNode(ctx, n, "h"); err != nil {
			t.Fatal(err)
		}
	}
	pol := fleet.Policy{DownOut: time.Second}
	ev := New(db, nil, roomy(Config{DataDir: t.TempDir(), Fleet: pol}))
	raised := func(code string) bool { _, ok := ev.Evaluate(ctx).Raised(code); return ok }
	if raised(NodeDown) || raised(FleetOutHeld) {
		t.Fatal("raised with every node up")
	}
	if err := db.StopNode(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if !raised(NodeDown) {
		t.Fatal("NODE_DOWN not raised for b stopped")
	}
	testutil.Eventually(t, 30*time.Second, "FLEET_OUT_HELD for b down past 1s", func() bool { return raised(FleetOutHeld) })
	if c, _ := ev.Evaluate(ctx).Raised(FleetOutHeld); c.Severity != Err || len(c.Detail) != 1 || c.Detail[0][:3] != "b: " {
		t.Fatalf("FLEET_OUT_HELD: %+v", c)
	}
	if _, err := db.SetFleetFlag(ctx, catalog.FlagNoOut, "t", ""); err != nil {
		t.Fatal(err)
	}
	if raised(FleetOutHeld) || !raised(FleetFlagsSet) {
		t.Fatal("with noout set the hold is the operator's: FLEETFLAGS_SET, not FLEET_OUT_HELD")
	}
	if _, err := db.UnsetFleetFlag(ctx, catalog.FlagNoOut); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartNode(ctx, "b", "h"); err != nil {
		t.Fatal(err)
	}
	if raised(NodeDown) || raised(FleetOutHeld) {
		t.Fatal("still raised after b started again")
	}
	// A share that allows one node out: no hold; once out, not down either.
	pol.OutMaxShare = 0.5
	ev.SetConfig(roomy(Config{DataDir: t.TempDir(), Fleet: pol}))
	if err := db.StopNode(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "b down past 1s", func() bool {
		n, err := db.Node(ctx, "b")
		return err == nil && n.DownSeconds > 1
	})
	if !raised(NodeDown) || raised(FleetOutHeld) {
		t.Fatal("want NODE_DOWN and no FLEET_OUT_HELD when the guard lets b out")
	}
	if ok, err := db.LeadPlanner(ctx, "a", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if m, err := db.MarkNodesOut(ctx, "a", []string{"b"}, "test"); err != nil || len(m) != 1 {
		t.Fatal(m, err)
	}
	if raised(NodeDown) {
		t.Fatal("NODE_DOWN still raised for b marked out")
	}
}
