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

// TestAdoptionHashesThroughTheScrubber: data found on disk with nothing
// recorded is hashed by archivd's scrubber, not by the engine (the
// store's engine reads stay at zero); good pieces are recorded complete
// and served, the one corrupted piece is recorded not complete.
func TestAdoptionHashesThroughTheScrubber(t *testing.T) {
	db := openDB(t, pgtest.URL(t))
	src := filepath.Join(t.TempDir(), "adopt")
	writeData(t, src, 7, map[string]int64{"a.bin": 300 << 10, "sub/b.bin": 211 << 10})
	tf := makeTorrent(t, src, 16<<10)
	row := addTorrent(t, db, tf, src, false)
	// Corrupt piece 3 after the torrent was made.
	f, err := os.OpenFile(filepath.Join(src, "a.bin"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("bitrot"), 3*16<<10+5); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s := start(t, testConfig(t, "A"), db)
	testutil.Eventually(t, time.Minute, "every good piece recorded complete", func() bool {
		return completeInCatalog(t, db, row) == row.PieceCount-1
	})
	ps, err := db.LoadPieces(context.Background(), row.ID, row.PieceCount)
	if err != nil {
		t.Fatal(err)
	}
	if !ps.Known.Get(3) || ps.Complete.Get(3) {
		t.Fatalf("corrupted piece 3: known %v complete %v, want recorded not complete", ps.Known.Get(3), ps.Complete.Get(3))
	}
	checkRecordedPieces(t, db, row, tf)
	st := s.Status()
	if st.AdoptedPieces != int64(row.PieceCount-1) || st.AdoptedBytes != tf.TotalLength {
		t.Fatalf("adopted %d pieces, %d bytes; want %d pieces, %d bytes", st.AdoptedPieces, st.AdoptedBytes, row.PieceCount-1, tf.TotalLength)
	}
	if st.DiskReadBytes != 0 {
		t.Fatalf("the engine read %d bytes of piece data: it hashed pieces itself", st.DiskReadBytes)
	}
	testutil.Eventually(t, 10*time.Second, "the engine to count the adopted pieces", func() bool {
		ts, ok := s.TorrentStatus(row.InfoHash)
		return ok && ts.PiecesComplete == row.PieceCount-1
	})
}

// TestAdoptionCommitsWhenItEnds: the pieces an adoption found good are
// recorded in the catalog when it ends, not at the end of the store's
// commit interval (an hour here): a first start on existing data is done
// when the catalog says so.
func TestAdoptionCommitsWhenItEnds(t *testing.T) {
	db := openDB(t, pgtest.URL(t))
	src := filepath.Join(t.TempDir(), "adopt")
	writeData(t, src, 9, map[string]int64{"a.bin": 200 << 10})
	tf := makeTorrent(t, src, 16<<10)
	row := addTorrent(t, db, tf, src, false)
	cfg := testConfig(t, "A")
	cfg.CommitInterval = time.Hour
	start(t, cfg, db)
	testutil.Eventually(t, time.Minute, "every piece recorded complete", func() bool {
		return completeInCatalog(t, db, row) == row.PieceCount
	})
}
