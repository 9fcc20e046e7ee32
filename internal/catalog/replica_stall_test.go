package catalog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestStalledReplicasFollowTheirProgress: three replicas placed on b and
// settled fetch (they count in b's recoveries and pending bytes); their
// progress timestamps moved two hours back, they are stalled: out of b's
// recoveries and pending bytes (their bytes kept off b's free space), in
// Recovery's and StalledReplicas' stalled counts, oldest first; with
// stall 0 never. A piece recorded complete again, or recorded bad, is no
// progress; a new piece complete is (that replica counts again); a
// replica that completes and then loses a piece fetches again from then;
// b starting again restarts the clock of the rest.
func TestStalledReplicasFollowTheirProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2}); err != nil {
		t.Fatal(err)
	}
	const free = int64(1) << 40
	for _, n := range []string{"a", "b"} {
		fleetNode(t, db, n, n, free)
	}
	a, b := db.ForNode("a"), db.ForNode("b")
	var ids []int64
	for i := range 3 {
		nt := newTorrent("c", byte(i+1), 4)
		nt.Verified = true
		tor, err := a.AddTorrent(ctx, nt)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tor.ID)
	}
	if ok, err := db.LeadPlanner(ctx, "a", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ps, err := db.PlanPass(ctx, "a", time.Hour, choose); err != nil || len(ps) != 3 {
		t.Fatalf("placed %v (%v), want 3 on b", ps, err)
	}
	if err := b.SettleReplicas(ctx, ids, []string{"/srv/b/1", "/srv/b/2", "/srv/b/3"}); err != nil {
		t.Fatal(err)
	}
	const piece, size = int64(1) << 18, int64(4) << 18
	// b as the planner sees it: "recovering/stalled pending free-less".
	view := func(stall time.Duration) string {
		t.Helper()
		ns, _, err := db.BalanceNodes(ctx, stall)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.ID == "b" {
				return fmt.Sprintf("%d/%d %d %d", n.Recovering, n.Stalled, n.PendingBytes, free-n.FreeBytes)
			}
		}
		t.Fatal("no node b")
		return ""
	}
	store := func(id int64, p int, complete bool) {
		t.Helper()
		if err := b.StorePieces(ctx, map[int64][]catalog.PieceUpdate{id: {{Piece: p, Complete: complete}}}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := view(time.Hour), fmt.Sprintf("3/0 %d 0", 3*size); got != want {
		t.Fatalf("placed and settled: %s, want %s", got, want)
	}
	store(ids[0], 0, true)
	if n := pgtest.Int(t, db, `SELECT count(*) FROM piece_chunks WHERE node_id = 'b' AND grown_at > now() - interval '1 minute'`); n != 1 {
		t.Fatalf("%d chunks of b grown now, want 1", n)
	}
	// Two hours without progress (t2 three, t3 one and a half).
	pgtest.Exec(t, db, `UPDATE replicas SET progress_at = now() - interval '2 hours' WHERE node_id = 'b'`)
	pgtest.Exec(t, db, `UPDATE replicas SET progress_at = now() - interval '3 hours' WHERE node_id = 'b' AND torrent_id = $1`, ids[1])
	pgtest.Exec(t, db, `UPDATE replicas SET progress_at = now() - interval '90 minutes' WHERE node_id = 'b' AND torrent_id = $1`, ids[2])
	pgtest.Exec(t, db, `UPDATE piece_chunks SET grown_at = now() - interval '2 hours' WHERE node_id = 'b'`)
	left := 3*size - piece
	if got, want := view(time.Hour), fmt.Sprintf("0/3 0 %d", left); got != want {
		t.Fatalf("no progress for 2 hours: %s, want %s", got, want)
	}
	if got, want := view(0), fmt.Sprintf("3/0 %d 0", left); got != want {
		t.Fatalf("stall 0 (never): %s, want %s", got, want)
	}
	st, err := db.Recovery(ctx, time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if st.Fetching != 0 || st.Stalled != 3 || st.StalledBytes != left || st.StalledSince == nil ||
		time.Since(*st.StalledSince) < 3*time.Hour-time.Minute || len(st.Nodes) != 1 || st.Nodes[0].Stalled != 3 {
		t.Fatalf("recovery %+v, want 0 fetching, 3 stalled (%d bytes) since 3 hours on b", st, left)
	}
	ss, total, err := db.StalledReplicas(ctx, time.Hour, "b", 2)
	if err != nil || total != 3 || len(ss) != 2 || ss[0].TorrentID != ids[1] || ss[0].Node != "b" || ss[0].BytesLeft != size ||
		ss[1].TorrentID != ids[0] || ss[1].BytesLeft != size-piece {
		t.Fatalf("stalled on b %+v, %d in all (%v); want t2 then t1 of 3", ss, total, err)
	}
	for _, c := range []struct {
		stall time.Duration
		node  string
	}{{time.Hour, "a"}, {0, ""}, {4 * time.Hour, "b"}} {
		if ss, total, err := db.StalledReplicas(ctx, c.stall, c.node, 10); err != nil || total != 0 || len(ss) != 0 {
			t.Fatalf("stalled %v on %q: %+v, %d (%v); want none", c.stall, c.node, ss, total, err)
		}
	}
	// No progress: a piece complete recorded again, a piece recorded bad.
	store(ids[0], 0, true)
	store(ids[2], 1, false)
	if got := view(time.Hour); got[:3] != "0/3" {
		t.Fatalf("after no progress: %s, want 0/3", got)
	}
	// Progress: a new piece of t1.
	store(ids[0], 1, true)
	if got := view(time.Hour); got[:3] != "1/2" {
		t.Fatalf("after a piece of t1: %s, want 1/2", got)
	}
	// t2 completes, its clock is moved back, then it loses a piece.
	for p := range 4 {
		store(ids[1], p, true)
	}
	pgtest.Exec(t, db, `UPDATE replicas SET progress_at = now() - interval '2 hours' WHERE torrent_id = $1`, ids[1])
	pgtest.Exec(t, db, `UPDATE piece_chunks SET grown_at = now() - interval '2 hours' WHERE torrent_id = $1`, ids[1])
	store(ids[1], 2, false)
	if got := view(time.Hour); got[:3] != "2/1" {
		t.Fatalf("after t2 lost a piece: %s, want 2/1 (t1, t2 fetching; t3 stalled)", got)
	}
	// b starts again: t3 gets a fresh start.
	if _, err := db.StartNode(ctx, "b", "h"); err != nil {
		t.Fatal(err)
	}
	if got := view(time.Hour); got[:3] != "3/0" {
		t.Fatalf("after b started: %s, want 3/0", got)
	}
}
