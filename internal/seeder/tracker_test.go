package seeder

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// TestConfigTrackerFindsPeer: with no remembered peer, B finds A through
// the extra tracker of the configuration (on loopback) and downloads.
func TestConfigTrackerFindsPeer(t *testing.T) {
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "ds", 51)
	tracker := testutil.StartTracker(t, tf.InfoHash)
	rowA := addTorrent(t, dbA, tf, src, true)
	cfgA, cfgB := testConfig(t, "A"), testConfig(t, "B")
	cfgA.Trackers, cfgB.Trackers = []string{tracker.URL}, []string{tracker.URL}
	a := start(t, cfgA, dbA)
	testutil.Eventually(t, 10*time.Second, "A seeding", inEngine(a, rowA.InfoHash))
	tracker.WaitSeeders(t, tf.InfoHash, 1, 30*time.Second) // A announced first
	dirB := filepath.Join(t.TempDir(), "ds")
	rowB := addTorrent(t, dbB, tf, dirB, false)
	start(t, cfgB, dbB)
	testutil.Eventually(t, 30*time.Second, "B complete", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	sameFiles(t, tf, src, dirB)
}
