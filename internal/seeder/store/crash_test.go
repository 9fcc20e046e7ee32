package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
)

// TestUncleanStopRedoesOnlyUncommittedWork: a piece marked not complete
// (durably) and fetched again, whose new completion never reached the
// catalog before the process "died", is fetched and hashed again at the
// next start; nothing else is read.
func TestUncleanStopRedoesOnlyUncommittedWork(t *testing.T) {
	db := pgtest.New(t)
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, "crash", multiFileSizes, dl)
	copyTree(t, f, dl)
	ctx := context.Background()
	s := newStore(t, db) // Run is never started: only explicit commits reach the catalog
	cl, tt := addToEngine(t, s, f)
	waitComplete(t, tt, 30*time.Second)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	const bad = 4
	corruptPiece(t, f, dl, bad)
	if err := s.MarkNotComplete(ctx, f.ih, []int{bad}); err != nil {
		t.Fatal(err)
	}
	seeder := newSeeder(t, f)
	tt.Piece(bad).UpdateCompletion()
	tt.DownloadAll()
	addPeer(tt, seeder)
	waitPiece(t, tt, bad, 20*time.Second, seeder)
	if h := s.Health(); h.Pending != 1 {
		t.Fatalf("pending %d, want the one re-fetched piece", h.Pending)
	}
	cl.Close() // "crash": the completion of piece bad is never committed
	ps := loadPieces(t, db, f)
	if !ps.Known.Get(bad) || ps.Complete.Get(bad) {
		t.Fatal("uncommitted completion reached the catalog")
	}

	s2 := newStore(t, db)
	runStore(t, s2)
	_, tt2 := addToEngine(t, s2, f)
	tt2.DownloadAll()
	addPeer(tt2, seeder)
	waitComplete(t, tt2, 30*time.Second, seeder)
	if err := s2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r, w, pl := s2.BytesRead(), s2.BytesWritten(), f.info.Piece(bad).Length(); r != pl || w != pl {
		t.Fatalf("restart read %d and wrote %d bytes, want one piece (%d) each", r, w, pl)
	}
	if n := checkCatalogAgainstDisk(t, db, f, dl); n != f.info.NumPieces() {
		t.Fatalf("catalog records %d of %d pieces complete", n, f.info.NumPieces())
	}
	sameFiles(t, f, dl)
}
