package seeder

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// TestSeedingRateFollowsTheTransfer: the upload rate a seeding torrent
// reports (list --json, the status page) is above zero while a peer
// downloads from it and back at zero once the peer has gone. Complete
// torrents without a connection are not asked for their counters at each
// sample (sampleRates): their rate must still fall to zero, and rise again
// when a connection comes.
func TestSeedingRateFollowsTheTransfer(t *testing.T) {
	t.Parallel()
	dirA, dirB := t.TempDir(), filepath.Join(t.TempDir(), "data")
	srcA := filepath.Join(dirA, "ds")
	writeData(t, srcA, 29, map[string]int64{"a.bin": 6 << 20})
	tf := makeTorrent(t, srcA, 256<<10)
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	rowA := addTorrent(t, dbA, tf, srcA, true)
	rowB := addTorrent(t, dbB, tf, dirB, false)
	a := start(t, testConfig(t, "A"), dbA)
	rate := func() float64 {
		ts, _ := a.TorrentStatus(rowA.InfoHash)
		return ts.UploadRate
	}
	testutil.Eventually(t, 30*time.Second, "A seeding", func() bool { ts, ok := a.TorrentStatus(rowA.InfoHash); return ok && ts.State == "seeding" })
	testutil.Eventually(t, 10*time.Second, "A's idle upload rate at zero", func() bool { return rate() == 0 })
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())
	cfg := testConfig(t, "B")
	cfg.DownloadRate = 1 << 20 // 6 s: three samples or so
	b := start(t, cfg, dbB)
	testutil.Eventually(t, time.Minute, "A's upload rate above zero while B downloads", func() bool { return rate() > 0 })
	testutil.Eventually(t, 2*time.Minute, "B complete", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "A's upload rate back at zero after B left", func() bool { return rate() == 0 })
}
