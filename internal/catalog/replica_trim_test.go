package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/pgtest"
)

// copyOn records a replica of torrent id on node, every piece complete
// when complete (4-piece torrents: one chunk), placed by the planner.
func copyOn(t *testing.T, db *catalog.DB, id int64, node string, complete bool) {
	t.Helper()
	pgtest.Exec(t, db, `INSERT INTO replicas (torrent_id, node_id, data_dir, placed_by) VALUES ($1, $2, '/srv/' || $2 || '/t', 'p')`, id, node)
	storePieces(t, db.ForNode(node), id, 4, complete)
}

// storePieces records pieces 0..n-1 of the handle's node's replica of
// torrent id complete or not, as the node's store does.
func storePieces(t *testing.T, db *catalog.DB, id int64, n int, complete bool) {
	t.Helper()
	var ups []catalog.PieceUpdate
	for i := range n {
		ups = append(ups, catalog.PieceUpdate{Piece: i, Complete: complete})
	}
	if err := db.StorePieces(context.Background(), map[int64][]catalog.PieceUpdate{id: ups}); err != nil {
		t.Fatal(err)
	}
}

// scrubbed records the last scrub of node's replica of torrent id.
func scrubbed(t *testing.T, db *catalog.DB, id int64, node, result string) {
	t.Helper()
	pgtest.Exec(t, db, `INSERT INTO verify_ranges (torrent_id, node_id, first_piece, piece_count, last_verified_at, last_result)
		VALUES ($1, $2, 0, 4, now(), $3)`, id, node, result)
}

// marked lists the replicas marked for removal as "torrent:node" (sorted;
// one-letter node ids).
func marked(t *testing.T, db *catalog.DB) string {
	t.Helper()
	var out []string
	for _, r := range pgtest.Ints(t, db, `SELECT torrent_id * 1000 + ascii(node_id) FROM replicas WHERE remove_at IS NOT NULL`) {
		out = append(out, fmt.Sprintf("%d:%c", r/1000, rune(r%1000)))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func lead(t *testing.T, db *catalog.DB, h string) {
	t.Helper()
	if ok, err := db.LeadPlanner(context.Background(), h, time.Minute); !ok || err != nil {
		t.Fatalf("%s leads: %v %v", h, ok, err)
	}
}

// Above replicas_max the surplus healthy copies are marked: the zone
// spread kept, the copy whose last scrub failed first, then the fullest
// node; the only copy that passed its scrub stays. A draining node's copy
// is marked once enough healthy copies are elsewhere; a copy on a node out,
// or still fetching, is left. The node holding a marked copy lists it and
// deletes it with what was recorded of it.
func TestTrimDropsSurplusKeepingZonesAndTheScrubbedCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 1, ReplicasMax: 2}); err != nil {
		t.Fatal(err)
	}
	fleetNode(t, db, "a", "z1", 1<<40)
	fleetNode(t, db, "b", "z1", 1<<30) // fullest
	fleetNode(t, db, "c", "z1", 1<<42) // its last scrub failed
	fleetNode(t, db, "d", "z2", 1<<30) // the other zone
	fleetNode(t, db, "e", "z3", 1<<40) // draining
	fleetNode(t, db, "f", "z2", 1<<40) // out
	fleetNode(t, db, "g", "z3", 1<<40) // fetching
	if _, err := db.SetNodeAdmin(ctx, "e", catalog.NodeActive, catalog.NodeDraining, "t"); err != nil {
		t.Fatal(err)
	}
	if ch, err := db.SetNodeOut(ctx, "f", true, "t"); err != nil || !ch {
		t.Fatalf("f out: %v %v", ch, err)
	}
	tor, err := db.ForNode("x").AddTorrent(ctx, newTorrent("c", 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, db, `DELETE FROM replicas`)
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		copyOn(t, db, tor.ID, n, true)
	}
	copyOn(t, db, tor.ID, "g", false)
	scrubbed(t, db, tor.ID, "c", "failed")
	scrubbed(t, db, tor.ID, "d", "ok")
	lead(t, db, "a")
	ms, err := db.TrimPass(ctx, "a", fleet.ChooseTrim)
	if err != nil {
		t.Fatal(err)
	}
	id := tor.ID
	if got, want := marked(t, db), fmt.Sprintf("%d:b %d:c %d:e", id, id, id); got != want {
		t.Fatalf("marked %q, want %q (%v)", got, want, ms)
	}
	if ms, err := db.TrimPass(ctx, "a", fleet.ChooseTrim); err != nil || len(ms) != 0 {
		t.Fatalf("second pass marked %v (%v), want nothing", ms, err)
	}
	reps, err := db.Replicas(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var removing []string
	for _, r := range reps {
		if r.Removing && r.RemovingReason != "" {
			removing = append(removing, r.Node)
		}
	}
	if strings.Join(removing, ",") != "b,c,e" {
		t.Fatalf("replicas shown being removed: %v, want b,c,e", removing)
	}
	// A marked copy no longer counts: 2 copies (a, d), none fetching counted for b.
	if st, err := db.Copies(ctx); err != nil || fmt.Sprint(st.ByCopies) != "[{2 1}]" {
		t.Fatalf("copies %v (%v), want [{2 1}]", st.ByCopies, err)
	}
	// Its node no longer runs it, lists it, and deletes it.
	b := db.ForNode("b")
	if ts, err := b.Torrents(ctx, catalog.TorrentFilter{Runnable: true}); err != nil || len(ts) != 0 {
		t.Fatalf("b's runnable torrents %v (%v), want none", ts, err)
	}
	rs, err := b.RemovingReplicas(ctx)
	if err != nil || len(rs) != 1 || rs[0].Torrent.ID != id || !rs[0].Torrent.Removing || rs[0].PlacedBy != "p" ||
		rs[0].Torrent.DataDir != "/srv/b/t" || len(rs[0].Files) != 1 || !strings.HasPrefix(rs[0].Reason, "surplus copy") {
		t.Fatalf("b's replicas to remove: %+v (%v)", rs, err)
	}
	if err := b.DropReplica(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM piece_chunks WHERE node_id = 'b'`); n != 0 {
		t.Fatalf("b's piece states: %d rows left", n)
	}
	if err := db.ForNode("a").DropReplica(ctx, id); !errors.Is(err, catalog.ErrNotMarked) {
		t.Fatalf("drop an unmarked replica: %v, want ErrNotMarked", err)
	}
	if got := fmt.Sprint(replicaMap(t, db)[id]); got != "[a c d e f g]" {
		t.Fatalf("replicas %s, want [a c d e f g]", got)
	}
	// The node out comes in: its copy counts, and is the surplus now
	// (a and d keep the two zones; f shares z2 with d, which passed its scrub).
	if _, err := db.SetNodeOut(ctx, "f", false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TrimPass(ctx, "a", fleet.ChooseTrim); err != nil {
		t.Fatal(err)
	}
	if got, want := marked(t, db), fmt.Sprintf("%d:c %d:e %d:f", id, id, id); got != want {
		t.Fatalf("after f is in: marked %q, want %q", got, want)
	}
}

// Never below replicas_min, never the last copy: a draining node's copy is
// marked only once replicas_min healthy copies are elsewhere (a copy still
// fetching does not count); a node's only copy on a draining node stays.
// A planner that does not lead marks nothing.
func TestDrainNeverGoesBelowReplicasMin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2, ReplicasMax: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "one"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		fleetNode(t, db, n, n, 1<<40)
	}
	x := db.ForNode("x")
	two, err := x.AddTorrent(ctx, newTorrent("c", 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	one, err := x.AddTorrent(ctx, newTorrent("one", 2, 4))
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, db, `DELETE FROM replicas`)
	copyOn(t, db, two.ID, "a", true)
	copyOn(t, db, two.ID, "c", true)
	copyOn(t, db, two.ID, "b", false) // placed, fetching
	copyOn(t, db, one.ID, "c", true)  // the only copy
	if _, err := db.SetNodeAdmin(ctx, "c", catalog.NodeActive, catalog.NodeDraining, "t"); err != nil {
		t.Fatal(err)
	}
	lead(t, db, "a")
	if _, err := db.TrimPass(ctx, "b", fleet.ChooseTrim); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("b's trim while a leads: %v, want ErrNotLeader", err)
	}
	for range 2 {
		if ms, err := db.TrimPass(ctx, "a", fleet.ChooseTrim); err != nil || len(ms) != 0 {
			t.Fatalf("trim with 1 healthy copy elsewhere marked %v (%v), want nothing", ms, err)
		}
	}
	n, err := db.Node(ctx, "c")
	if err != nil || n.Replicas != (catalog.NodeReplicas{Replicas: 2, OnlyCopy: 1}) {
		t.Fatalf("c holds %+v (%v), want 2 replicas, the only one of 1", n.Replicas, err)
	}
	if err := db.StopNode(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := db.ForgetNode(ctx, "c"); !errors.Is(err, catalog.ErrNodeInUse) || !strings.Contains(err.Error(), "the only one of 1 torrents") {
		t.Fatalf("forget c holding the only copy: %v", err)
	}
	if _, err := db.StartNode(ctx, "c", "h"); err != nil {
		t.Fatal(err)
	}
	// b's copy completes: 2 healthy elsewhere, c's copy goes.
	storePieces(t, db.ForNode("b"), two.ID, 4, true)
	ms, err := db.TrimPass(ctx, "a", fleet.ChooseTrim)
	if err != nil || fmt.Sprint(ms) != fmt.Sprintf("[{%d c node draining: 2 healthy copies elsewhere (replicas_min 2)}]", two.ID) {
		t.Fatalf("marked %v (%v), want c's copy of %d only", ms, err, two.ID)
	}
	if n, err := db.Node(ctx, "c"); err != nil || n.Replicas != (catalog.NodeReplicas{Replicas: 2, Removing: 1, OnlyCopy: 1}) {
		t.Fatalf("c holds %+v (%v)", n.Replicas, err)
	}
}

// Two planners trim concurrently, leadership moving between them: every
// torrent ends with exactly replicas_max unmarked copies, every surplus
// copy marked once.
func TestConcurrentPlannersTrimEachSurplusOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 1, ReplicasMax: 2}); err != nil {
		t.Fatal(err)
	}
	nodes := []string{"n0", "n1", "n2", "n3", "n4"}
	for i, n := range nodes {
		fleetNode(t, db, n, fmt.Sprintf("z%d", i%3), 1<<40)
	}
	x := db.ForNode("x")
	for i := range 20 {
		tor, err := x.AddTorrent(ctx, newTorrent("c", byte(i+1), 4))
		if err != nil {
			t.Fatal(err)
		}
		pgtest.Exec(t, db, `DELETE FROM replicas WHERE torrent_id = $1`, tor.ID)
		for _, n := range nodes {
			copyOn(t, db, tor.ID, n, true)
		}
	}
	var wg sync.WaitGroup
	got := make([]int, 2)
	for i, h := range []string{"n1", "n2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				ok, err := db.LeadPlanner(ctx, h, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				ms, err := db.TrimPass(ctx, h, fleet.ChooseTrim)
				switch {
				case ok && err != nil && !errors.Is(err, catalog.ErrNotLeader):
					t.Error(err)
					return
				case !ok && err == nil:
					t.Errorf("%s trimmed without the lease", h)
					return
				}
				got[i] += len(ms)
				if ok {
					_ = db.ResignPlanner(ctx, h)
				}
			}
		}()
	}
	wg.Wait()
	if got[0]+got[1] != 60 {
		t.Fatalf("%d+%d marks, want 60 (3 per torrent)", got[0], got[1])
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM (SELECT torrent_id FROM replicas WHERE remove_at IS NULL
		GROUP BY torrent_id HAVING count(*) = 2) x`); n != 20 {
		t.Fatalf("%d torrents with exactly 2 unmarked copies, want 20", n)
	}
}
