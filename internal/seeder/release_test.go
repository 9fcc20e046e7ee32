package seeder

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// Release answers false while the catalog has the torrent runnable (and
// leaves it running); once its replica is marked for removal, it drops it
// from the engine and answers true, and no reconcile adds it again.
func TestReleaseDropsAReplicaMarkedForRemoval(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, pgtest.URL(t))
	tf, dir := smallTorrent(t, t.TempDir(), "rel", 31)
	r := addTorrent(t, db, tf, dir, true)
	s := start(t, testConfig(t, "N"), db)
	testutil.Eventually(t, 10*time.Second, "torrent seeding", inEngine(s, r.InfoHash))
	if out, err := s.Release(ctx, r.ID); err != nil || out {
		t.Fatalf("release of a runnable torrent: %v %v, want false", out, err)
	}
	if !inEngine(s, r.InfoHash)() {
		t.Fatal("release of a runnable torrent dropped it")
	}
	pgtest.Exec(t, db, `UPDATE replicas SET remove_at = now(), remove_reason = 'test' WHERE torrent_id = $1`, r.ID)
	if out, err := s.Release(ctx, r.ID); err != nil || !out {
		t.Fatalf("release of a marked torrent: %v %v, want true", out, err)
	}
	if inEngine(s, r.InfoHash)() {
		t.Fatal("released torrent still in the engine")
	}
	s.requestFull()
	begun := s.fullBegun.Load()
	testutil.Eventually(t, 10*time.Second, "a full reconcile after the release", func() bool { return s.fullEnded.Load() > begun })
	if inEngine(s, r.InfoHash)() {
		t.Fatal("a full reconcile added the marked torrent again")
	}
}
