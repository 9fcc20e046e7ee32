package seeder

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// TestSIGKILLDuringDownloadLosesOnlyInFlightPieces runs the downloading
// node as a child process and SIGKILLs it at random moments. After every
// kill, every piece its catalog records complete hashes correctly on disk
// and no piece is unknown (so the next start hashes nothing); the download
// then finishes bit-identical, and the bytes A sent over all runs stay
// within the torrent size plus, per kill, what can be in flight.
func TestSIGKILLDuringDownloadLosesOnlyInFlightPieces(t *testing.T) {
	const pieceLen = 1 << 20
	rate, kills := int64(40<<20), 4
	if testing.Short() {
		rate, kills = 8<<20, 3
	}
	dirA, dirB := t.TempDir(), filepath.Join(t.TempDir(), "data")
	srcA := filepath.Join(dirA, "ds")
	writeData(t, srcA, 2, transferSizes(t))
	tf := makeTorrent(t, srcA, pieceLen)
	urlB := pgtest.URL(t)
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, urlB)
	dbB.BindNode("B") // the child's node: this handle reads B's replica
	rowA := addTorrent(t, dbA, tf, srcA, true)
	rowB := addTorrent(t, dbB, tf, dirB, false)
	a := start(t, testConfig(t, "A"), dbA)
	// B's first dial must find the torrent at A: a handshake A refuses
	// leaves B waiting for its redial.
	testutil.Eventually(t, 30*time.Second, "A seeding", func() bool { ts, ok := a.TorrentStatus(rowA.InfoHash); return ok && ts.State == "seeding" })
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for k := 0; k < kills; k++ {
		before := completeInCatalog(t, dbB, rowB)
		c := startChild(t, "B", urlB, rate)
		// Generous: the suite runs with -race beside the interop tests.
		recorded := false
		t.Cleanup(func() {
			if !recorded {
				ts, _ := a.TorrentStatus(rowA.InfoHash)
				t.Logf("kill %d: A: %+v; A's torrent: %+v", k, a.Status(), ts)
			}
		})
		testutil.Eventually(t, 2*time.Minute, fmt.Sprintf("kill %d: a piece recorded by B", k), func() bool {
			return completeInCatalog(t, dbB, rowB) > before
		})
		recorded = true
		// Not a wait: the random moment of the kill is what is under test.
		time.Sleep(time.Duration(rng.IntN(700)) * time.Millisecond)
		c.kill(t)
		n := checkRecordedPieces(t, dbB, rowB, tf)
		ps, err := dbB.LoadPieces(context.Background(), rowB.ID, rowB.PieceCount)
		if err != nil {
			t.Fatal(err)
		}
		if known := ps.Known.Count(rowB.PieceCount); known != rowB.PieceCount {
			t.Fatalf("kill %d: %d of %d pieces unknown: they would be hashed at the next start", k, rowB.PieceCount-known, rowB.PieceCount)
		}
		clean, _ := dbB.NodeCleanStop(context.Background(), "B")
		if clean {
			t.Fatalf("kill %d: node recorded a clean stop", k)
		}
		t.Logf("kill %d: %d of %d pieces recorded complete and verified on disk", k, n, tf.PieceCount)
		if n == tf.PieceCount {
			break
		}
	}
	c := startChild(t, "B", urlB, rate)
	testutil.Eventually(t, 2*time.Minute, "B complete", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	c.term(t)
	sameFiles(t, tf, srcA, dirB)
	checkRecordedPieces(t, dbB, rowB, tf)

	ts, ok := a.TorrentStatus(rowA.InfoHash)
	if !ok {
		t.Fatal("A lost its torrent")
	}
	// Per kill, at most: what arrived during one commit interval plus one
	// second of fsync and socket buffering at the download rate, plus 16
	// pieces that were partly received.
	perKill := rate*int64(100*time.Millisecond+time.Second)/int64(time.Second) + 16*pieceLen
	bound := tf.TotalLength + int64(kills)*perKill
	t.Logf("A sent %d bytes for a %d-byte torrent over %d kills (bound %d)", ts.UploadedBytes, tf.TotalLength, kills, bound)
	if ts.UploadedBytes > bound {
		t.Fatalf("A sent %d bytes, more than the bound %d", ts.UploadedBytes, bound)
	}
}
