package catalog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// Copies follows the replicas table: a placed replica is fetching until
// its pieces are complete; a node stopped puts a torrent at risk without
// putting it under its min; a node out does both.
func TestCopiesCountCompleteReplicasOnNodesIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		fleetNode(t, db, n, n, 1<<40)
	}
	nt := newTorrent("c", 1, 4)
	nt.Verified = true
	tor, err := db.ForNode("a").AddTorrent(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	size := nt.TotalLength
	stats := func() string {
		st, err := db.Copies(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%v under %d/%d risk %d/%d fetching %d/%d", st.ByCopies, st.UnderMin, st.UnderMinBytes,
			st.AtRisk, st.AtRiskBytes, st.Fetching, st.FetchingBytes)
	}
	want := func(w string) {
		t.Helper()
		if got := stats(); got != w {
			t.Fatalf("copies: %s\nwant:   %s", got, w)
		}
	}
	want(fmt.Sprintf("[{1 1}] under 1/%d risk 1/%d fetching 0/0", size, size))
	if ok, err := db.LeadPlanner(ctx, "a", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ps, err := db.PlanPass(ctx, "a", 0, choose); err != nil || len(ps) != 1 || ps[0].Node != "b" {
		t.Fatalf("placed %v (%v), want b", ps, err)
	}
	want(fmt.Sprintf("[{1 1}] under 1/%d risk 1/%d fetching 1/%d", size, size, size))
	b := db.ForNode("b")
	if err := b.SettleReplica(ctx, tor.ID, "/srv/b/t"); err != nil {
		t.Fatal(err)
	}
	storePieces(t, b, tor.ID, 4, true)
	want("[{2 1}] under 0/0 risk 0/0 fetching 0/0")
	if err := db.StopNode(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	want(fmt.Sprintf("[{2 1}] under 0/0 risk 1/%d fetching 0/0", size))
	if m, err := db.MarkNodesOut(ctx, "a", []string{"b"}, "test"); err != nil || len(m) != 1 {
		t.Fatalf("mark b out: %v %v", m, err)
	}
	want(fmt.Sprintf("[{1 1}] under 1/%d risk 1/%d fetching 0/0", size, size))
	// b starts again: marked out automatically, it is in again.
	if _, err := db.StartNode(ctx, "b", "h"); err != nil {
		t.Fatal(err)
	}
	want("[{2 1}] under 0/0 risk 0/0 fetching 0/0")
}
