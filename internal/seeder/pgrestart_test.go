package seeder

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// ownCluster starts a private PostgreSQL that the test may stop and start.
func ownCluster(t *testing.T) (*pgserver.Server, pgserver.Options) {
	t.Helper()
	srv, opts, _ := pgtest.Own(t)
	return srv, opts
}

// TestPostgresRestartMidTransfer: the downloading node's PostgreSQL stops
// mid-transfer and comes back. The node keeps downloading (piece states
// held in memory, status degraded), then commits them; the transfer
// completes, the catalog agrees with the disk and the change listener is
// connected again.
func TestPostgresRestartMidTransfer(t *testing.T) {
	ctx := context.Background()
	srv, opts := ownCluster(t)
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, srv.URL("archivd"))
	src := filepath.Join(t.TempDir(), "ds")
	writeData(t, src, 3, transferSizes(t))
	tf := makeTorrent(t, src, 1<<20)
	addTorrent(t, dbA, tf, src, true)
	a := start(t, testConfig(t, "A"), dbA)
	dirB := filepath.Join(t.TempDir(), "ds")
	rowB := addTorrent(t, dbB, tf, dirB, false)
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())

	cfg := testConfig(t, "B")
	cfg.DownloadRate = tf.TotalLength / 6 // about six seconds of transfer
	b := start(t, cfg, dbB)
	testutil.Eventually(t, time.Minute, "some progress", func() bool { return completeInCatalog(t, dbB, rowB) > 0 })
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "status degraded", func() bool { st := b.Status(); return !st.DBOK && st.Degraded != "" })
	progress := b.Status().DiskWrittenBytes
	testutil.Eventually(t, 30*time.Second, "download going on while the catalog is down", func() bool {
		return b.Status().DiskWrittenBytes > progress
	})
	t.Logf("during the outage: %+v", b.Status())
	if _, err := pgserver.Start(ctx, opts); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Minute, "B complete in its catalog", func() bool {
		n, err := dbB.CompletedPieces(ctx, rowB.ID, rowB.PieceCount)
		return err == nil && n == tf.PieceCount
	})
	testutil.Eventually(t, 10*time.Second, "status healthy", func() bool { return b.Status().DBOK })
	sameFiles(t, tf, src, dirB)
	checkRecordedPieces(t, dbB, rowB, tf)
	// The change listener is back: a pause reaches the engine at once.
	if err := dbB.SetTorrentState(ctx, rowB.ID, "paused"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, time.Second, "pause after the outage applied", notInEngine(b, rowB.InfoHash))
	if err := b.stop(t); err != nil {
		t.Fatalf("clean stop after the outage: %v", err)
	}
}
