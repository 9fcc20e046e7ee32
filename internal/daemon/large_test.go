package daemon

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/testutil"
)

// TestLargeTorrentIsAddedOffTheStartPath: with a torrent of a million
// pieces in the catalog the daemon is ready before the engine has taken it
// in (the engine's add, linear in the piece count with the engine's lock
// held, takes seconds and runs on a loop of its own) and stops within
// seconds of its context ending, while that add may still run. Before,
// READY waited for the add (issue 10 case 12; 5 million pieces measured
// in docs/BENCHMARKS.md).
func TestLargeTorrentIsAddedOffTheStartPath(t *testing.T) {
	dir := stateDir(t)
	cfg := testConfig(dir)
	path := filepath.Join(t.TempDir(), "large.torrent")
	testutil.WriteLargeTorrent(t, path, 1_000_000)
	// Import first, with a daemon that has no torrents.
	var large catalog.Torrent
	err := serve(t, Options{Config: cfg}, func(d *Daemon) {
		ctx := context.Background()
		coll, err := d.DB.CreateCollection(ctx, catalog.Collection{Name: "c"})
		if err != nil {
			t.Fatal(err)
		}
		if large, _, err = importer.ImportFile(ctx, d.DB, filepath.Join(dir, "data"), coll, path, "cli"); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan bool, 1) // whether the large torrent was in the engine at READY
	done := make(chan error, 1)
	began := time.Now()
	go func() {
		done <- Run(ctx, Options{Config: cfg, Ready: func(d *Daemon) {
			_, in := d.Seeder.TorrentStatus(large.InfoHash)
			ready <- in
		}})
	}()
	select {
	case in := <-ready:
		t.Logf("ready after %v, large torrent in the engine then: %v", time.Since(began), in)
		if in {
			t.Error("READY waited for the engine to take in the large torrent (seconds, with the engine's lock held)")
		}
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready 10 s after start with a torrent of a million pieces")
	}
	stop := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
		t.Logf("stopped %v after cancel", time.Since(stop))
	case <-time.After(15 * time.Second):
		t.Fatal("not stopped 15 s after its context ended")
	}
}

// TestLargeTorrentPausedDuringItsAddLeavesTheEngine: a torrent of a
// million pieces paused while the large-add loop takes it in never enters
// the engine: the add is given up at the catalog check before the engine's
// own add (seconds with the engine's lock held; over a minute under -race
// on 2 loaded cores, which cannot be cancelled). Paused later, during the
// engine's add, it would leave the engine as soon as that add returns, not
// at the next full reconcile (an hour here). Before, the pause's reconcile
// found nothing running to drop, and the paused torrent went through the
// whole engine add and then into the engine.
func TestLargeTorrentPausedDuringItsAddLeavesTheEngine(t *testing.T) {
	dir := stateDir(t)
	cfg := testConfig(dir)
	cfg.Seeder.ReconcileInterval = time.Hour
	path := filepath.Join(t.TempDir(), "large.torrent")
	testutil.WriteLargeTorrent(t, path, 1_000_000)
	var large catalog.Torrent
	err := serve(t, Options{Config: cfg}, func(d *Daemon) {
		ctx := context.Background()
		coll, err := d.DB.CreateCollection(ctx, catalog.Collection{Name: "c"})
		if err != nil {
			t.Fatal(err)
		}
		if large, _, err = importer.ImportFile(ctx, d.DB, filepath.Join(dir, "data"), coll, path, "cli"); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	err = serve(t, Options{Config: cfg}, func(d *Daemon) {
		// At READY the add is queued or running (it takes seconds).
		pending := d.Seeder.LargeAddsPending()
		if err := d.DB.SetTorrentState(context.Background(), large.ID, catalog.TorrentPaused); err != nil {
			t.Fatal(err)
		}
		t.Logf("paused with %d large add(s) pending", pending)
		// Bounded for the worst case (the pause seen only after the
		// engine's add); the check below says whether it was.
		testutil.Eventually(t, 3*time.Minute, "the paused large torrent's add done and the torrent out of the engine", func() bool {
			_, in := d.Seeder.TorrentStatus(large.InfoHash)
			return d.Seeder.LargeAddsPending() == 0 && !in
		})
		// The pause committed right at READY, while the add was still
		// loading and recording a million piece states (half a second
		// without -race, over ten with it) before the engine's add.
		if n := d.Seeder.LargeAddsAbandoned(); n != 1 {
			t.Errorf("large adds given up: %d, want 1 (the paused torrent went through the engine's add)", n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
