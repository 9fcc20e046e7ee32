package seeder

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/torrentfile"
)

// TestSIGKILLBeforeCommitHashesNotFetches: node B (a child process)
// downloads every piece to disk while its catalog refuses to take the
// completions (a test transaction holds piece_chunks locked), and is
// SIGKILLed: everything is on disk, nothing recorded complete. At the
// restart the pieces recorded not complete whose files hold data are
// hashed (by the scrubber) and recorded complete: A sends nothing again.
func TestSIGKILLBeforeCommitHashesNotFetches(t *testing.T) {
	ctx := context.Background()
	const pieceLen = 256 << 10
	dirA, dirB := t.TempDir(), filepath.Join(t.TempDir(), "data")
	srcA := filepath.Join(dirA, "ds")
	writeData(t, srcA, 11, map[string]int64{"a.bin": 3<<20 + 777, "sub/b.bin": 1 << 20})
	tf := makeTorrent(t, srcA, pieceLen)
	urlB := pgtest.URL(t)
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, urlB)
	dbB.BindNode("B") // the child's node: this handle reads B's replica
	rowA := addTorrent(t, dbA, tf, srcA, true)
	rowB := addTorrent(t, dbB, tf, dirB, false)
	// As a fresh download leaves it: every piece recorded not complete, and
	// (so that B's start writes nothing) the files there, empty.
	var ups []catalog.PieceUpdate
	for p := range tf.PieceCount {
		ups = append(ups, catalog.PieceUpdate{Piece: p})
	}
	if err := dbB.StorePieces(ctx, map[int64][]catalog.PieceUpdate{rowB.ID: ups}); err != nil {
		t.Fatal(err)
	}
	for _, f := range tf.Files {
		p := filepath.Join(dirB, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := start(t, testConfig(t, "A"), dbA)
	testutil.Eventually(t, 30*time.Second, "A seeding", func() bool { ts, ok := a.TorrentStatus(rowA.InfoHash); return ok && ts.State == "seeding" })
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())

	release := pgtest.Hold(t, dbB, `LOCK TABLE piece_chunks IN EXCLUSIVE MODE`)
	c := startChild(t, "B", urlB, 0)
	testutil.Eventually(t, 2*time.Minute, "B's data on disk", func() bool { return allOnDisk(tf, dirB) })
	c.kill(t)
	release()
	if n := completeInCatalog(t, dbB, rowB); n != 0 {
		t.Fatalf("%d pieces recorded complete although every commit was held", n)
	}

	sent := a.Status().UploadedBytes
	c = startChild(t, "B", urlB, 0)
	testutil.Eventually(t, time.Minute, "B's pieces recorded complete", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	c.term(t)
	checkRecordedPieces(t, dbB, rowB, tf)
	if again := a.Status().UploadedBytes - sent; again != 0 {
		t.Fatalf("A sent %d bytes again after the restart: pieces on disk were fetched, not hashed", again)
	}
}

// allOnDisk reports whether every piece of tf hashes correctly in dir.
func allOnDisk(tf *torrentfile.Torrent, dir string) bool {
	buf := make([]byte, tf.PieceLength)
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for p := range tf.PieceCount {
		l := min(tf.PieceLength, tf.TotalLength-int64(p)*tf.PieceLength)
		n := int64(0)
		for _, f := range tf.Files {
			from, to := max(f.Offset, int64(p)*tf.PieceLength), min(f.Offset+f.Length, int64(p)*tf.PieceLength+l)
			if from >= to {
				continue
			}
			fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
			if err != nil {
				return false
			}
			files = append(files, fh)
			got, err := fh.ReadAt(buf[n:n+to-from], from-f.Offset)
			if err != nil && !(errors.Is(err, io.EOF) && int64(got) == to-from) {
				return false
			}
			n += to - from
		}
		h := sha1.Sum(buf[:l])
		if !bytes.Equal(h[:], tf.Info.Pieces[p*20:p*20+20]) {
			return false
		}
	}
	return true
}
