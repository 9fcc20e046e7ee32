package seeder

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// A seeds a torrent and has a download cap; its download limiter is empty
// (as while it downloads something else at the cap) when it learns of
// leecher B. The engine does not dial B then, and B knows no peer: B gets
// the torrent only because the dial nudge has A dial B once the limiter
// refills.
func TestSeedDialsALeecherLearntWhileItsDownloadCapWasSpent(t *testing.T) {
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	src := filepath.Join(t.TempDir(), "ds")
	writeData(t, src, 7, map[string]int64{"f.bin": 1 << 20})
	tf := makeTorrent(t, src, 256<<10)
	addTorrent(t, dbA, tf, src, true)
	rowB := addTorrent(t, dbB, tf, filepath.Join(t.TempDir(), "data"), false)

	a := start(t, testConfig(t, "A"), dbA)
	testutil.Eventually(t, 30*time.Second, "A seeding", func() bool { return a.Status().Seeding == 1 })
	b := start(t, testConfig(t, "B"), dbB)
	testutil.Eventually(t, 30*time.Second, "B's torrent in its engine", func() bool { return len(b.client.Torrents()) == 1 })

	a.SetLimits(Limits{DownloadRate: 128 << 10})
	// Spend the burst (1 MiB) and as much again: empty for ~8 s.
	now := time.Now()
	for range 2 {
		if !a.lim.down.ReserveN(now, 1<<20).OK() {
			t.Fatal("reserve A's download limiter")
		}
	}
	ts := a.client.Torrents()
	if len(ts) != 1 {
		t.Fatalf("A's engine has %d torrents, want 1", len(ts))
	}
	ts[0].AddPeers([]torrent.PeerInfo{{Addr: torrent.StringAddr(b.ListenAddr()), Source: torrent.PeerSourceTracker}})
	if st := ts[0].Stats(); st.PendingPeers != 1 || st.ActivePeers+st.HalfOpenPeers != 0 {
		t.Fatalf("A dialled B with its download limiter empty (pending %d, active %d, half-open %d): the engine changed, the nudge may be moot",
			st.PendingPeers, st.ActivePeers, st.HalfOpenPeers)
	}
	testutil.Eventually(t, 90*time.Second, "B complete from A", func() bool { return completeInCatalog(t, dbB, rowB) == rowB.PieceCount })
}
