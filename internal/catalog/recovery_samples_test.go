package catalog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// The recovery progress comes from the replicas placed by the planner
// (what they lack) and the nodes' samples of their completed bytes (the
// rate: increases only, over the time between a node's first and last
// sample of the window).
func TestRecoveryProgressFromSamples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2}); err != nil {
		t.Fatal(err)
	}
	fleetNode(t, db, "a", "z1", 1<<40)
	fleetNode(t, db, "b", "z2", 1<<40)
	tor, err := db.ForNode("a").AddTorrent(ctx, newTorrent("c", 1, 4)) // 4 pieces of 256 KiB
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.LeadPlanner(ctx, "a", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ps, err := db.PlanPass(ctx, "a", 0, choose); err != nil || len(ps) != 1 || ps[0].Node != "b" {
		t.Fatalf("placed %v (%v), want on b", ps, err)
	}
	b := db.ForNode("b")
	const piece = 256 << 10
	complete := func(ps ...int) {
		t.Helper()
		var ups []catalog.PieceUpdate
		for _, p := range ps {
			ups = append(ups, catalog.PieceUpdate{Piece: p, Complete: true})
		}
		if err := b.StorePieces(ctx, map[int64][]catalog.PieceUpdate{tor.ID: ups}); err != nil {
			t.Fatal(err)
		}
	}
	sample := func() {
		t.Helper()
		for _, n := range []string{"a", "b"} { // a holds nothing placed: no progress of its own
			if err := db.ForNode(n).SampleRecovery(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func() catalog.RecoveryStats {
		t.Helper()
		st, err := db.Recovery(ctx, time.Minute, 0)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	sample()
	st := read()
	if st.Fetching != 1 || st.BytesLeft != 4*piece || st.BytesPerSec != 0 || st.ETASeconds != nil || len(st.Nodes) != 1 ||
		st.Nodes[0].Node != "b" || st.Nodes[0].WindowBytes != 0 {
		t.Fatalf("before any piece: %+v", st)
	}
	complete(0, 1)
	sample()
	st = read()
	n := st.Nodes[0]
	if st.Fetching != 1 || st.BytesLeft != 2*piece || n.WindowBytes != 2*piece || n.WindowSeconds <= 0 {
		t.Fatalf("after 2 pieces: %+v", st)
	}
	if want := float64(2*piece) / n.WindowSeconds; st.BytesPerSec != want || n.BytesPerSec != want {
		t.Fatalf("rate %v (node %v), want %v", st.BytesPerSec, n.BytesPerSec, want)
	}
	if st.ETASeconds == nil || *st.ETASeconds != float64(2*piece)/st.BytesPerSec {
		t.Fatalf("eta %v, want %v", st.ETASeconds, float64(2*piece)/st.BytesPerSec)
	}
	// A piece recorded not complete again (a decrease) is not counted
	// against the rate; the rest completes.
	if err := b.StorePieces(ctx, map[int64][]catalog.PieceUpdate{tor.ID: {{Piece: 1, Complete: false}}}); err != nil {
		t.Fatal(err)
	}
	sample()
	complete(1, 2, 3)
	sample()
	st = read()
	if got := fmt.Sprintf("%d %d %v %d", st.Fetching, st.BytesLeft, st.ETASeconds, st.Nodes[0].WindowBytes); got != fmt.Sprintf("0 0 <nil> %d", 5*piece) {
		t.Fatalf("complete: fetching, left, eta, window bytes: %s, want 0 0 <nil> %d", got, 5*piece)
	}
}
