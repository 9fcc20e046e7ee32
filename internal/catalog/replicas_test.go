package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// oldCatalog fills a catalog at the schema version before replicas (one state per torrent)
// as the code of that version wrote it: a torrent unavailable with its
// totals, two pieces complete, a verified range, an open finding, an
// engine state and a queued run. With node, the nodes table has that one
// node (a catalog a daemon served); without, none (only `add` ran).
func oldCatalog(t *testing.T, db *catalog.DB, node string) int64 {
	t.Helper()
	migrateTo(t, db, beforeReplicas)
	if node != "" {
		pgtest.Exec(t, db, `INSERT INTO nodes (id, hostname, last_seen_at, clean_stop) VALUES ($1, 'h', now(), true)`, node)
	}
	coll := pgtest.Int(t, db, `INSERT INTO collections (name) VALUES ('c') RETURNING id`)
	id := pgtest.Int(t, db, `INSERT INTO torrents (collection_id, infohash, name, data_dir, piece_count, piece_length, total_length,
		availability, availability_cause, availability_reason, uploaded_bytes, downloaded_bytes, completed_at, metainfo)
		VALUES ($1, '\x0200000000000000000000000000000000000000', 't', '/data/t', 10, 16384, 163840,
		'unavailable', 'data_missing', 'data directory /data/t does not exist', 1234, 567, now(), 'd4:infode') RETURNING id`, coll)
	pgtest.Exec(t, db, `INSERT INTO piece_chunks (torrent_id, chunk, known, complete) VALUES ($1, 0, '\xe000', '\xc000')`, id)
	pgtest.Exec(t, db, `INSERT INTO verify_ranges (torrent_id, first_piece, piece_count, last_verified_at, last_result)
		VALUES ($1, 0, 10, now(), 'failed')`, id)
	run := pgtest.Int(t, db, `INSERT INTO verify_runs (kind, state) VALUES ('manual', 'done') RETURNING id`)
	pgtest.Exec(t, db, `INSERT INTO findings (run_id, last_run_id, torrent_id, piece, piece_count, kind, state)
		VALUES ($1, $1, $2, 4, 2, 'hash_mismatch', 'open')`, run, id)
	if node != "" {
		pgtest.Exec(t, db, `INSERT INTO engine_states (torrent_id, node_id, state) VALUES ($1, $2, 'seeding')`, id, node)
	}
	pgtest.Exec(t, db, `INSERT INTO verify_runs (kind, scope) VALUES ('manual', '{}')`)
	return id
}

// beforeReplicas is the schema version before migrations/010_replicas.sql.
const beforeReplicas = 9

// checkCarried: node's view of the torrent is everything the old catalog
// held, but completed_at, which migration 017 derives from the pieces (2
// of 10 complete: not complete; nothing ever wrote the old column).
func checkCarried(t *testing.T, db *catalog.DB, id int64) {
	t.Helper()
	ctx := context.Background()
	tor, err := db.TorrentByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !tor.Local || tor.Availability != catalog.AvailabilityUnavailable || tor.AvailabilityCause != catalog.CauseDataMissing ||
		tor.AvailabilityReason != "data directory /data/t does not exist" || tor.Uploaded != 1234 || tor.Downloaded != 567 ||
		tor.CompletedAt != nil || tor.DataDir != "/data/t" {
		t.Fatalf("node %q sees %+v, want the old torrent's state on its replica", db.NodeID(), tor)
	}
	ps, err := db.LoadPieces(ctx, id, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Known.Count(10) != 3 || ps.Complete.Count(10) != 2 || !ps.Complete.Get(0) || !ps.Complete.Get(1) || !ps.Known.Get(2) {
		t.Fatalf("node %q pieces known %08b complete %08b, want 3 known, pieces 0 and 1 complete", db.NodeID(), ps.Known, ps.Complete)
	}
	if n, err := db.OpenFindingCount(ctx, id); err != nil || n != 1 {
		t.Fatalf("node %q open findings %d (%v), want 1", db.NodeID(), n, err)
	}
	rs, err := db.Replicas(ctx, id)
	if err != nil || len(rs) != 1 || rs[0].Node != db.NodeID() || rs[0].PiecesComplete != 2 || rs[0].LastScrub != "failed" {
		t.Fatalf("replicas %+v (%v), want one on %q with 2 pieces, last scrub failed", rs, err, db.NodeID())
	}
}

// TestReplicasMigrationCarriesASingleNodeCatalogOver: a catalog of the
// previous schema, served by one node, becomes that node's replicas with
// every fact kept; another node sees the torrent but holds nothing of it;
// the queued run becomes the node's. Rolling back restores the old rows.
func TestReplicasMigrationCarriesASingleNodeCatalogOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	id := oldCatalog(t, db, "n1")
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db.BindNode("n1")
	checkCarried(t, db, id)
	if n := pgtest.Int(t, db, `SELECT count(*) FROM verify_runs WHERE state = 'queued' AND node_id = 'n1'`); n != 1 {
		t.Fatalf("%d queued runs of n1, want the old queued run", n)
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM engine_states WHERE node_id = 'n1'`); n != 1 {
		t.Fatalf("%d engine states of n1, want 1", n)
	}

	n2 := db.ForNode("n2")
	tor, err := n2.TorrentByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tor.Local || tor.Availability != catalog.AvailabilityOK || tor.Uploaded != 0 {
		t.Fatalf("node n2 sees %+v, want no replica there (ok, nothing transferred)", tor)
	}
	if ps, err := n2.LoadPieces(ctx, id, 10); err != nil || ps.Known.Count(10) != 0 {
		t.Fatalf("node n2 knows %d pieces (%v), want none", ps.Known.Count(10), err)
	}
	if _, ok, err := n2.ClaimVerifyRun(ctx, []catalog.RunKind{catalog.RunManual}, "n2", time.Now()); err != nil || ok {
		t.Fatalf("n2 claimed n1's run (%v, %v)", ok, err)
	}

	migrateTo(t, db, beforeReplicas)
	if n := pgtest.Int(t, db, `SELECT count(*) FROM torrents WHERE id = $1 AND availability = 'unavailable'
		AND availability_cause = 'data_missing' AND uploaded_bytes = 1234 AND downloaded_bytes = 567`, id); n != 1 {
		t.Fatal("after rolling back, the torrent row lost its availability or totals")
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM piece_chunks WHERE torrent_id = $1`, id); n != 1 {
		t.Fatalf("after rolling back, %d piece chunks, want 1", n)
	}
}

// TestReplicasOfACatalogNoNodeServedGoToTheFirstNodeToStart: without a
// nodes row the old rows wait on the unclaimed node; the first node that
// starts claims them, a later one does not.
func TestReplicasOfACatalogNoNodeServedGoToTheFirstNodeToStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	id := oldCatalog(t, db, "")
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	first := db.ForNode("first")
	if _, err := first.StartNode(ctx, "first", "h"); err != nil {
		t.Fatal(err)
	}
	checkCarried(t, first, id)
	second := db.ForNode("second")
	if _, err := second.StartNode(ctx, "second", "h"); err != nil {
		t.Fatal(err)
	}
	if tor, err := second.TorrentByID(ctx, id); err != nil || tor.Local {
		t.Fatalf("second node holds %+v (%v), want no replica", tor, err)
	}
	checkCarried(t, first, id)
}

// TestReplicaPeersAreTheOtherUpNodesHoldingTheTorrent: a node learns the
// BitTorrent addresses of the other up nodes holding a torrent it holds,
// the one whose replica passed its last scrub first; a stopped node, a
// node without the torrent, a replica marked for removal and the node
// itself are not named.
func TestReplicaPeersAreTheOtherUpNodesHoldingTheTorrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	for i, n := range []string{"a", "b", "c", "d", "e"} {
		h := db.ForNode(n)
		if _, err := h.StartNode(ctx, n, "h"); err != nil {
			t.Fatal(err)
		}
		if err := h.HeartbeatNode(ctx, n, catalog.NodeInfo{BTAddr: fmt.Sprintf("127.0.0.%d:6881", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	a := db.ForNode("a")
	tor, err := a.AddTorrent(ctx, newTorrent("c", 7, 4))
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.AddTorrent(ctx, newTorrent("c", 8, 4))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b", "c", "d"} {
		if _, err := db.ForNode(n).AddReplica(ctx, tor.ID, "/srv/"+n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ForNode("e").AddReplica(ctx, other.ID, "/srv/e"); err != nil {
		t.Fatal(err)
	}
	// c's replica passed its last scrub, b's failed, d is stopped.
	for n, res := range map[string]string{"b": "failed", "c": "ok"} {
		h := db.ForNode(n)
		if err := h.EnsureVerifyRanges(ctx, tor.ID, 4, 4); err != nil {
			t.Fatal(err)
		}
		pgtest.Exec(t, db, `UPDATE verify_ranges SET last_verified_at = now(), last_result = $2 WHERE node_id = $1`, n, res)
	}
	if err := db.StopNode(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	ps, err := a.ReplicaPeers(ctx, []int64{tor.ID, other.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps[tor.ID] {
		got = append(got, p.Source+"@"+p.Addr)
	}
	if want := "replica:c@127.0.0.3:6881 replica:b@127.0.0.2:6881"; strings.Join(got, " ") != want || len(ps[other.ID]) != 1 {
		t.Fatalf("a's replica peers of %d: %v, of %d: %v; want %s, and e for the other", tor.ID, got, other.ID, ps[other.ID], want)
	}
	if ps, err := db.ForNode("e").ReplicaPeers(ctx, []int64{tor.ID}); err != nil || len(ps) != 0 {
		t.Fatalf("e, holding no replica of the torrent, got %v (%v)", ps, err)
	}
	// c's replica marked for removal: its node drops it, it is not named.
	pgtest.Exec(t, db, `UPDATE replicas SET remove_at = now() WHERE torrent_id = $1 AND node_id = 'c'`, tor.ID)
	if ps, err := a.ReplicaPeers(ctx, []int64{tor.ID}); err != nil || len(ps[tor.ID]) != 1 || ps[tor.ID][0].Source != "replica:b" {
		t.Fatalf("a's replica peers with c's marked for removal: %v (%v), want b only", ps[tor.ID], err)
	}
}
