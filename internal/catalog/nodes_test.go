package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestNodeUpDownByTheCatalogsClock: a node is up while it has not stopped
// cleanly and its last heartbeat is within NodeUpTTL of the database's
// now(); what it registers is read back; the admin state is separate from
// up/down.
func TestNodeUpDownByTheCatalogsClock(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.StartNode(ctx, "n1", "host1"); err != nil {
		t.Fatal(err)
	}
	info := catalog.NodeInfo{Name: "one", BTAddr: "127.0.0.2:6881", Zone: "z1", Tags: []string{"ssd", "rack=r4"}, Version: "v9"}
	if err := db.HeartbeatNode(ctx, "n1", info); err != nil {
		t.Fatal(err)
	}
	if err := db.HeartbeatNode(ctx, "nope", info); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("heartbeat of a node without a row: %v, want ErrNotFound", err)
	}
	n, err := db.Node(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if !n.Up || n.DownSeconds != 0 || n.Name != "one" || n.BTAddr != "127.0.0.2:6881" || n.Zone != "z1" ||
		len(n.Tags) != 2 || n.Tags[1] != "rack=r4" || n.Version != "v9" || n.Admin != catalog.NodeActive || n.Status() != "up" {
		t.Fatalf("registered node: %+v", n)
	}
	// Last seen just past the TTL by the database's clock: down.
	pgtest.Exec(t, db, `UPDATE nodes SET last_seen_at = now() - make_interval(secs => $1) WHERE id = 'n1'`, catalog.NodeUpTTL.Seconds()+1)
	if n, err = db.Node(ctx, "n1"); err != nil || n.Up || n.DownSeconds < catalog.NodeUpTTL.Seconds() || n.Status() != "down" {
		t.Fatalf("node past its TTL: %+v, %v", n, err)
	}
	// Just within it: up.
	pgtest.Exec(t, db, `UPDATE nodes SET last_seen_at = now() - make_interval(secs => $1) WHERE id = 'n1'`, catalog.NodeUpTTL.Seconds()-2)
	if n, err = db.Node(ctx, "n1"); err != nil || !n.Up {
		t.Fatalf("node within its TTL: %+v, %v", n, err)
	}
	// A clean stop is down at once.
	if err := db.StopNode(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if n, err = db.Node(ctx, "n1"); err != nil || n.Up || !n.CleanStop {
		t.Fatalf("stopped node: %+v, %v", n, err)
	}
	if _, err := db.Node(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("unknown node: %v", err)
	}

	prev, err := db.SetNodeAdmin(ctx, "n1", catalog.NodeActive, catalog.NodeMaintenance, "disk swap")
	if err != nil || prev != catalog.NodeActive {
		t.Fatalf("maintenance: %v %v", prev, err)
	}
	// From a state it is not in: nothing changes.
	if prev, err := db.SetNodeAdmin(ctx, "n1", catalog.NodeDraining, catalog.NodeActive, ""); err != nil || prev != catalog.NodeMaintenance {
		t.Fatalf("undrain of a node in maintenance: %v %v", prev, err)
	}
	ns, err := db.Nodes(ctx)
	if err != nil || len(ns) != 1 || ns[0].Admin != catalog.NodeMaintenance || ns[0].AdminReason != "disk swap" ||
		ns[0].AdminAt == nil || ns[0].Status() != "down, maintenance" {
		t.Fatalf("nodes after maintenance: %+v, %v", ns, err)
	}
	if _, err := db.SetNodeAdmin(ctx, "nope", catalog.NodeActive, catalog.NodeDraining, ""); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("admin state of an unknown node: %v", err)
	}
	if _, err := db.SetNodeAdmin(ctx, "n1", catalog.NodeMaintenance, "bogus", ""); err == nil {
		t.Fatal("an admin state the schema does not know was accepted")
	}
}

// TestForgetNodeRefusesAnUpNodeAndOneStillReferredTo.
func TestForgetNodeRefusesAnUpNodeAndOneStillReferredTo(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.StartNode(ctx, "n1", "host1"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetNodeDataRoots(ctx, "n1", []catalog.NodeDataRoot{{Path: "/srv/a", Device: "1", CapacityBytes: 100, FreeBytes: 40}}); err != nil {
		t.Fatal(err)
	}
	if err := db.ForgetNode(ctx, "n1"); !errors.Is(err, catalog.ErrNodeUp) {
		t.Fatalf("forget an up node: %v, want ErrNodeUp", err)
	}
	if err := db.StopNode(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, db, `INSERT INTO collections (name) VALUES ('c')`)
	pgtest.Exec(t, db, `INSERT INTO torrents (collection_id, infohash, data_dir)
		VALUES ((SELECT id FROM collections), decode(repeat('ab', 20), 'hex'), '/srv/a/t')`)
	pgtest.Exec(t, db, `INSERT INTO replicas (torrent_id, node_id, data_dir) SELECT id, 'n1', data_dir FROM torrents`)
	if err := db.ForgetNode(ctx, "n1"); !errors.Is(err, catalog.ErrNodeInUse) {
		t.Fatalf("forget a node holding a replica: %v, want ErrNodeInUse", err)
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM nodes`); n != 1 {
		t.Fatalf("refused forget changed nodes: %d rows", n)
	}
	pgtest.Exec(t, db, `DELETE FROM replicas`)
	if err := db.ForgetNode(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM nodes`) + pgtest.Int(t, db, `SELECT count(*) FROM node_data_roots`); n != 0 {
		t.Fatalf("forgotten node left %d rows", n)
	}
	if err := db.ForgetNode(ctx, "n1"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("forget twice: %v", err)
	}
}

// TestNodeDataRootsSumDistinctFilesystems: roots on one filesystem count
// its space once; a root that could not be read counts nothing; a root no
// longer listed is dropped.
func TestNodeDataRootsSumDistinctFilesystems(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.StartNode(ctx, "n1", "h"); err != nil {
		t.Fatal(err)
	}
	roots := []catalog.NodeDataRoot{
		{Path: "/srv/a", Device: "1", CapacityBytes: 100, FreeBytes: 40},
		{Path: "/srv/a2", Device: "1", CapacityBytes: 100, FreeBytes: 40},
		{Path: "/srv/b", Device: "2", CapacityBytes: 50, FreeBytes: 5},
		{Path: "/srv/gone", Error: "stat /srv/gone: permission denied"},
	}
	if err := db.SetNodeDataRoots(ctx, "n1", roots); err != nil {
		t.Fatal(err)
	}
	n, err := db.Node(ctx, "n1")
	if err != nil || len(n.Roots) != 4 || n.CapacityBytes != 150 || n.FreeBytes != 45 {
		t.Fatalf("node with roots: %+v, %v", n, err)
	}
	if err := db.SetNodeDataRoots(ctx, "n1", roots[2:3]); err != nil {
		t.Fatal(err)
	}
	if n, err = db.Node(ctx, "n1"); err != nil || len(n.Roots) != 1 || n.Roots[0].Path != "/srv/b" || n.CapacityBytes != 50 {
		t.Fatalf("after roots shrank: %+v, %v", n, err)
	}
}

func TestFleetFlagsSetUnset(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := catalog.ParseFleetFlag("nodown"); err == nil {
		t.Fatal("unknown flag parsed")
	}
	for _, f := range []catalog.FleetFlag{catalog.FlagNoScrub, catalog.FlagNoOut} {
		if was, err := db.SetFleetFlag(ctx, f, "op", "why"); err != nil || was {
			t.Fatalf("set %s: %v %v", f, was, err)
		}
	}
	if was, err := db.SetFleetFlag(ctx, catalog.FlagNoOut, "op2", "again"); err != nil || !was {
		t.Fatalf("set noout twice: %v %v", was, err)
	}
	fs, err := db.SetFleetFlags(ctx)
	if err != nil || len(fs) != 2 || fs[0].Flag != catalog.FlagNoOut || fs[0].SetBy != "op" || fs[1].Flag != catalog.FlagNoScrub {
		t.Fatalf("flags: %+v, %v", fs, err)
	}
	if set, err := db.FleetFlagIsSet(ctx, catalog.FlagNoScrub); err != nil || !set {
		t.Fatalf("noscrub set: %v %v", set, err)
	}
	if was, err := db.UnsetFleetFlag(ctx, catalog.FlagNoScrub); err != nil || !was {
		t.Fatalf("unset: %v %v", was, err)
	}
	if was, err := db.UnsetFleetFlag(ctx, catalog.FlagNoScrub); err != nil || was {
		t.Fatalf("unset twice: %v %v", was, err)
	}
	if set, err := db.FleetFlagIsSet(ctx, catalog.FlagNoScrub); err != nil || set {
		t.Fatalf("noscrub after unset: %v %v", set, err)
	}
}
