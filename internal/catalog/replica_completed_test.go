package catalog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestReplicaCompletionFollowsItsPieces: replicas.completed_at is set when
// the last piece is recorded complete (a torrent of two piece_chunks rows,
// stored in several commits), kept by a commit that changes nothing,
// cleared when a piece is recorded bad (bitrot) and set again once it is
// repaired, and all of that through a catalog opened again (a node's
// restart). The planner's view of the node (pending bytes, recoveries)
// follows it.
func TestReplicaCompletionFollowsItsPieces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		fleetNode(t, db, n, n, 1<<40)
	}
	pieces := catalog.ChunkPieces + 8
	nt := newTorrent("c", 1, pieces)
	nt.Verified = true
	tor, err := db.ForNode("a").AddTorrent(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.LeadPlanner(ctx, "a", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	choose := func(ns []catalog.PlanNode, ts []catalog.PlanTorrent) []catalog.PlanPlacement {
		return []catalog.PlanPlacement{{TorrentID: ts[0].ID, Node: "b"}}
	}
	if ps, err := db.PlanPass(ctx, "a", 0, choose); err != nil || len(ps) != 1 {
		t.Fatalf("placed %v (%v), want one on b", ps, err)
	}
	completed := func(db *catalog.DB, node string) *time.Time {
		t.Helper()
		rs, err := db.Replicas(ctx, tor.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Node == node {
				return r.CompletedAt
			}
		}
		t.Fatalf("no replica on %s", node)
		return nil
	}
	// b as the planner sees it: "pending bytes/recovering".
	planned := func(db *catalog.DB) string {
		t.Helper()
		ns, _, err := db.BalanceNodes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.ID == "b" {
				return fmt.Sprintf("%d/%d", n.PendingBytes, n.Recovering)
			}
		}
		t.Fatal("no node b")
		return ""
	}
	store := func(db *catalog.DB, from, to int, complete bool) {
		t.Helper()
		var ups []catalog.PieceUpdate
		for i := from; i < to; i++ {
			ups = append(ups, catalog.PieceUpdate{Piece: i, Complete: complete})
		}
		if err := db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{tor.ID: ups}); err != nil {
			t.Fatal(err)
		}
	}
	size := nt.TotalLength
	plen := nt.PieceLength

	if completed(db, "a") == nil {
		t.Fatal("a's replica, added verified, is not complete")
	}
	b := db.ForNode("b")
	if completed(db, "b") != nil || planned(db) != fmt.Sprintf("%d/1", size) {
		t.Fatalf("b's new replica: completed %v, planner sees %s", completed(db, "b"), planned(db))
	}
	store(b, 0, catalog.ChunkPieces, true) // the first chunk
	if completed(db, "b") != nil || planned(db) != fmt.Sprintf("%d/1", 8*plen) {
		t.Fatalf("b with its first chunk: completed %v, planner sees %s", completed(db, "b"), planned(db))
	}
	store(b, catalog.ChunkPieces, pieces-1, true)
	store(b, 0, 1, false) // a piece of the first chunk goes bad before the end
	store(b, pieces-1, pieces, true)
	if completed(db, "b") != nil {
		t.Fatal("b complete with piece 0 bad")
	}
	store(b, 0, 1, true)
	done := completed(db, "b")
	if done == nil || planned(db) != "0/0" {
		t.Fatalf("b with every piece: completed %v, planner sees %s", done, planned(db))
	}
	store(b, 5, 10, true) // nothing changes
	if again := completed(db, "b"); again == nil || !again.Equal(*done) {
		t.Fatalf("completed_at %v after a commit that changed nothing, was %v", again, done)
	}

	// b restarts: a new catalog handle on the same database.
	db2 := pgtest.Open(t, url)
	db.Close()
	b2 := db2.ForNode("b")
	if again := completed(db2, "b"); again == nil || !again.Equal(*done) {
		t.Fatalf("after reopening: completed_at %v, was %v", again, done)
	}
	if ps, err := b2.LoadPieces(ctx, tor.ID, pieces); err != nil || ps.Complete.Count(pieces) != pieces {
		t.Fatalf("after reopening: %d pieces complete (%v)", ps.Complete.Count(pieces), err)
	}
	// A scrub finds piece ChunkPieces+3 bad (bitrot) after completion.
	store(b2, catalog.ChunkPieces+3, catalog.ChunkPieces+4, false)
	if completed(db2, "b") != nil || planned(db2) != fmt.Sprintf("%d/1", plen) {
		t.Fatalf("b with a bad piece: completed %v, planner sees %s", completed(db2, "b"), planned(db2))
	}
	// Repaired.
	store(b2, catalog.ChunkPieces+3, catalog.ChunkPieces+4, true)
	if again := completed(db2, "b"); again == nil || again.Before(*done) || planned(db2) != "0/0" {
		t.Fatalf("b repaired: completed %v (was %v), planner sees %s", again, done, planned(db2))
	}
	if n := pgtest.Int(t, db2, `SELECT count(*) FROM replicas WHERE completed_at IS NULL`); n != 0 {
		t.Fatalf("%d replicas not complete, want none", n)
	}
}

// TestBulkAddedReplicasAreComplete: AddTorrents records its verified
// torrents' replicas complete on every node they are on, the others not.
func TestBulkAddedReplicasAreComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	v, u := newTorrent("c", 1, 4), newTorrent("c", 2, 4)
	v.Verified, v.AlsoOn, u.AlsoOn = true, []string{"b", "c"}, []string{"b"}
	if _, err := db.ForNode("a").AddTorrents(ctx, []catalog.NewTorrent{v, u}); err != nil {
		t.Fatal(err)
	}
	got := pgtest.String(t, db, `SELECT string_agg(t.name || ':' || r.node_id || ':' || (r.completed_at IS NOT NULL), ' ' ORDER BY t.name, r.node_id)
		FROM replicas r JOIN torrents t ON t.id = r.torrent_id`)
	if want := "tb:a:true tb:b:true tb:c:true tc:a:false tc:b:false"; got != want {
		t.Fatalf("replicas %s, want %s", got, want)
	}
}

// TestCompletionMigrationBackfillsFromPieces: migration 017 sets
// completed_at of the replicas whose pieces are all recorded complete
// (and only those), and its down step clears it.
func TestCompletionMigrationBackfillsFromPieces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	full, part := newTorrent("c", 1, 4), newTorrent("c", 2, 4)
	full.Verified, part.Verified = true, true
	a := db.ForNode("a")
	for _, nt := range []catalog.NewTorrent{full, part} {
		if _, err := a.AddTorrent(ctx, nt); err != nil {
			t.Fatal(err)
		}
	}
	migrateTo(t, db, 16)
	// What code before 017 leaves: nothing in completed_at, and a piece
	// of tc recorded bad.
	pgtest.Exec(t, db, `UPDATE replicas SET completed_at = NULL`)
	pgtest.Exec(t, db, `UPDATE piece_chunks SET complete = '\xe0' FROM torrents t WHERE t.id = torrent_id AND t.name = 'tc'`)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got := func() string {
		return pgtest.String(t, db, `SELECT string_agg(t.name || ':' || (r.completed_at IS NOT NULL), ' ' ORDER BY t.name)
			FROM replicas r JOIN torrents t ON t.id = r.torrent_id`)
	}
	if g := got(); g != "tb:true tc:false" {
		t.Fatalf("after 017: %s, want tb complete only", g)
	}
	migrateTo(t, db, 16)
	if g := got(); g != "tb:false tc:false" {
		t.Fatalf("after 017's down step: %s, want nothing complete", g)
	}
}
