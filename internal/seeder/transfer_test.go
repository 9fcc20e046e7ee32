package seeder

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// transferSize is the multi-file torrent of the transfer tests.
func transferSizes(t *testing.T) map[string]int64 {
	if testing.Short() {
		return map[string]int64{"a.bin": 12 << 20, "sub/b.bin": 7<<20 + 12345, "sub/deep/c.bin": 3 << 20}
	}
	return map[string]int64{"a.bin": 120 << 20, "sub/b.bin": 60<<20 + 12345, "sub/deep/c.bin": 20 << 20}
}

// TestTransferBitIdenticalThenCleanRestartReadsNothing: node A has the
// data recorded verified, node B (own catalog) has the metainfo and A's
// address in its peers table. B downloads everything bit-identically, its
// catalog records every piece complete and the bytes downloaded; after a
// clean stop and restart B seeds again without reading any piece data.
func TestTransferBitIdenticalThenCleanRestartReadsNothing(t *testing.T) {
	ctx := context.Background()
	dirA, dirB := t.TempDir(), filepath.Join(t.TempDir(), "data")
	srcA := filepath.Join(dirA, "ds")
	writeData(t, srcA, 1, transferSizes(t))
	tf := makeTorrent(t, srcA, 1<<20)
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	rowA := addTorrent(t, dbA, tf, srcA, true)
	rowB := addTorrent(t, dbB, tf, dirB, false)

	a := start(t, testConfig(t, "A"), dbA)
	testutil.Eventually(t, 10*time.Second, "A seeding", func() bool { ts, ok := a.TorrentStatus(rowA.InfoHash); return ok && ts.State == "seeding" })
	if r := a.Status().DiskReadBytes; r != 0 {
		t.Fatalf("A read %d bytes at start of a verified torrent", r)
	}
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())

	b := start(t, testConfig(t, "B"), dbB)
	testutil.Eventually(t, 2*time.Minute, "B complete in its catalog", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	sameFiles(t, tf, srcA, dirB)
	if err := b.stop(t); err != nil {
		t.Fatalf("B clean stop: %v", err)
	}
	clean, err := dbB.NodeCleanStop(ctx, "B")
	if err != nil || !clean {
		t.Fatalf("B's clean stop not recorded: %v %v", clean, err)
	}
	rowB2, err := dbB.TorrentByID(ctx, rowB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rowB2.Downloaded < tf.TotalLength {
		t.Fatalf("B's catalog total downloaded %d < torrent size %d", rowB2.Downloaded, tf.TotalLength)
	}
	peers, err := dbB.PeersOf(ctx, []int64{rowB.ID}, 10)
	if err != nil || len(peers[rowB.ID]) == 0 {
		t.Fatalf("B's peers not kept: %v %v", peers, err)
	}

	b2 := start(t, testConfig(t, "B"), dbB)
	testutil.Eventually(t, 10*time.Second, "B seeding after restart", func() bool {
		ts, ok := b2.TorrentStatus(rowB.InfoHash)
		return ok && ts.State == "seeding"
	})
	b2.reconcileFully(t) // the start is over: whatever it would read, it has read
	st := b2.Status()
	if st.DiskReadBytes != 0 || !st.LastStopClean {
		t.Fatalf("after a clean stop B read %d bytes at start (last stop clean: %v)", st.DiskReadBytes, st.LastStopClean)
	}
	if err := b2.stop(t); err != nil {
		t.Fatal(err)
	}
	rowB3, _ := dbB.TorrentByID(ctx, rowB.ID)
	if rowB3.Downloaded < rowB2.Downloaded {
		t.Fatalf("download total went down across restart: %d -> %d", rowB2.Downloaded, rowB3.Downloaded)
	}
	if _, err := os.Stat(filepath.Join(dirB, "a.bin")); err != nil {
		t.Fatal(err)
	}
}
