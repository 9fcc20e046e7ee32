package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// One read model of a run: the verifier's claim, the CLI's status and the
// API's list all see the same fields, findings count included.
func TestVerifyRunReadModelCountsFindings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	tor, err := addCollectionAndTorrent(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, err := db.CreateVerifyRun(ctx, "manual", []byte(`{"collections": ["maps"]}`), "", now)
	if err != nil {
		t.Fatal(err)
	}
	run, ok, err := db.ClaimVerifyRun(ctx, []catalog.RunKind{catalog.RunManual}, "node-a", now)
	if err != nil || !ok || run.ID != id || run.State != "running" || run.NodeID != "node-a" || run.Findings != 0 {
		t.Fatalf("claim = %+v, %v, %v", run, ok, err)
	}
	pgtest.Exec(t, db, `INSERT INTO findings (run_id, torrent_id, piece, kind) VALUES ($1, $2, 0, 'hash_mismatch'), ($1, $2, 1, 'io_error')`, id, tor)
	if err := db.FinishVerifyRun(ctx, id, "done", "", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	byID, err := db.VerifyRunByID(ctx, id)
	if err != nil || byID.Findings != 2 || byID.State != "done" || string(byID.Scope) != `{"collections": ["maps"]}` {
		t.Fatalf("by id = %+v (scope %s), %v", byID, byID.Scope, err)
	}
	list, err := db.VerifyRuns(ctx, 10)
	if err != nil || len(list) != 1 || list[0].Findings != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	last, ok, err := db.LastFinishedVerifyRun(ctx)
	if err != nil || !ok || last.ID != id || last.Findings != 2 || last.FinishedAt == nil {
		t.Fatalf("last finished = %+v, %v, %v", last, ok, err)
	}
}

// addCollectionAndTorrent creates collection "maps" with one torrent and
// returns the torrent's id.
func addCollectionAndTorrent(ctx context.Context, db *catalog.DB) (int64, error) {
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "maps"}); err != nil {
		return 0, err
	}
	tor, err := db.AddTorrent(ctx, newTorrent("maps", 1, 3))
	return tor.ID, err
}

// A read check is queued once per torrent and node while one is queued or
// running; another torrent, another node, or a finished check queue anew.
func TestReadCheckIsQueuedOncePerTorrentAndNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	a, b := db.ForNode("node-a"), db.ForNode("node-b")
	now := time.Now()
	const ih1, ih2 = "00000000000000000000000000000000000000aa", "00000000000000000000000000000000000000bb"
	first, queued, err := a.RequestReadCheck(ctx, ih1, now)
	if err != nil || !queued {
		t.Fatalf("first read check: %d, %v, %v", first, queued, err)
	}
	if id, queued, err := a.RequestReadCheck(ctx, ih1, now); err != nil || queued || id != first {
		t.Fatalf("again while queued: %d, %v, %v; want run %d, not queued", id, queued, err, first)
	}
	for _, c := range []struct {
		db *catalog.DB
		ih string
	}{{a, ih2}, {b, ih1}} {
		if id, queued, err := c.db.RequestReadCheck(ctx, c.ih, now); err != nil || !queued || id == first {
			t.Fatalf("node %s, %s: %d, %v, %v; want a new run", c.db.NodeID(), c.ih, id, queued, err)
		}
	}
	run, ok, err := a.ClaimVerifyRun(ctx, []catalog.RunKind{catalog.RunReadError}, "node-a", now)
	if err != nil || !ok || run.ID != first || run.Kind != catalog.RunReadError || string(run.Scope) != `{"torrents": ["`+ih1+`"]}` {
		t.Fatalf("claim: %+v (scope %s), %v, %v", run, run.Scope, ok, err)
	}
	if id, queued, err := a.RequestReadCheck(ctx, ih1, now); err != nil || queued || id != first {
		t.Fatalf("again while running: %d, %v, %v; want run %d, not queued", id, queued, err, first)
	}
	if err := a.FinishVerifyRun(ctx, first, catalog.RunDone, "", now); err != nil {
		t.Fatal(err)
	}
	if id, queued, err := a.RequestReadCheck(ctx, ih1, now); err != nil || !queued || id == first {
		t.Fatalf("after the check finished: %d, %v, %v; want a new run", id, queued, err)
	}
}
