package importer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/pgtest"
)

// A torrent placed on node b goes where an import on b would put it
// (collection root/name), unless another torrent is there as b sees the
// catalog (b's replicas, or where a torrent b does not hold was added):
// then root/<name>-<infohash>. Nodes a and b have the same data_dir, as
// a fleet configured alike does; "set" was imported on a in
// root/set, another torrent named "set" was added on a elsewhere.
func TestPlacedDirAvoidsAnotherTorrentsDirectory(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	coll, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2})
	if err != nil {
		t.Fatal(err)
	}
	root := CollectionRoot(dataDir, coll)
	for _, n := range []string{"a", "b"} {
		if _, err := db.StartNode(ctx, n, "h"); err != nil {
			t.Fatal(err)
		}
		if err := db.HeartbeatNode(ctx, n, catalog.NodeInfo{Zone: n}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetNodeDataRoots(ctx, n, []catalog.NodeDataRoot{{Path: dataDir, Device: "d" + n, CapacityBytes: 1 << 40, FreeBytes: 1 << 40}}); err != nil {
			t.Fatal(err)
		}
	}
	torrents := t.TempDir()
	a := db.ForNode("a")
	add := func(src, name, dir string) catalog.Torrent {
		t.Helper()
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		tf := writeTorrent(t, src, torrents, name)
		tor, err := a.AddTorrent(ctx, NewTorrentOf(tf, "c", dir))
		if err != nil {
			t.Fatal(err)
		}
		return tor
	}
	one := 1
	x := add(filepath.Join(t.TempDir(), "x"), "set", filepath.Join(root, "set")) // imported on a
	if err := db.SetTorrentReplicas(ctx, x.ID, catalog.ReplicaPolicy{Min: &one}); err != nil {
		t.Fatal(err)
	}
	y := add(filepath.Join(t.TempDir(), "y"), "set", filepath.Join(t.TempDir(), "elsewhere", "set"))
	solo := add(filepath.Join(t.TempDir(), "s"), "solo", filepath.Join(t.TempDir(), "elsewhere", "solo"))
	plan := func(want int) {
		t.Helper()
		if ok, err := db.LeadPlanner(ctx, "a", time.Minute); !ok || err != nil {
			t.Fatal(ok, err)
		}
		ps, err := db.PlanPass(ctx, "a", 0, func(ns []catalog.PlanNode, ts []catalog.PlanTorrent) []catalog.PlanPlacement {
			return fleet.Choose(ns, ts, fleet.Options{})
		})
		if err != nil || len(ps) != want {
			t.Fatalf("placed %v (%v), want %d placements", ps, err, want)
		}
	}
	plan(2) // y and solo on b
	b := db.ForNode("b")
	settle := func(want map[int64]string) {
		t.Helper()
		placed, err := b.PlacedReplicas(ctx)
		if err != nil || len(placed) != len(want) {
			t.Fatalf("placed on b: %d (%v), want %d", len(placed), err, len(want))
		}
		for _, tor := range placed {
			dir, err := PlacedDir(ctx, b, dataDir, tor)
			if err != nil || dir != want[tor.ID] {
				t.Fatalf("%s (%d) placed in %q (%v), want %q", tor.Name, tor.ID, dir, err, want[tor.ID])
			}
			if err := b.SettleReplica(ctx, tor.ID, dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	settle(map[int64]string{y.ID: filepath.Join(root, "set-"+y.HexHash()), solo.ID: filepath.Join(root, "solo")})
	// x placed on b too: its own directory name is free on b (y is beside it).
	if err := db.SetTorrentReplicas(ctx, x.ID, catalog.ReplicaPolicy{Inherit: true}); err != nil {
		t.Fatal(err)
	}
	plan(1)
	settle(map[int64]string{x.ID: filepath.Join(root, "set")})
	// A fourth "set" added on a elsewhere and placed on b: root/set is
	// b's replica of x now: suffixed too.
	z := add(filepath.Join(t.TempDir(), "z"), "set", filepath.Join(t.TempDir(), "elsewhere", "set"))
	plan(1)
	settle(map[int64]string{z.ID: filepath.Join(root, "set-"+z.HexHash())})
}
