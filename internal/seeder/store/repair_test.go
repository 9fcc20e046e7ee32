package store

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// TestMarkNotCompleteDurableThenRefetched: verification reports a rotten
// piece; the catalog says not complete as soon as MarkNotComplete
// returns, and the engine fetches the piece again from its peer.
func TestMarkNotCompleteDurableThenRefetched(t *testing.T) {
	db, f, dl, s, tt := inPlace(t, "rot")
	ctx := context.Background()
	seeder := newSeeder(t, f)
	tt.DownloadAll()
	addPeer(tt, seeder)
	testutil.Eventually(t, 10*time.Second, "connection to the seeder", func() bool { return len(tt.PeerConns()) > 0 })

	const bad = 5
	corruptPiece(t, f, dl, bad)
	written := s.BytesWritten()
	if err := s.MarkNotComplete(ctx, f.ih, []int{bad}); err != nil {
		t.Fatal(err)
	}
	if ps := loadPieces(t, db, f); !ps.Known.Get(bad) || ps.Complete.Get(bad) {
		t.Fatalf("catalog after MarkNotComplete: known=%v complete=%v, want known and not complete", ps.Known.Get(bad), ps.Complete.Get(bad))
	}
	tt.Piece(bad).UpdateCompletion()
	waitPiece(t, tt, bad, 20*time.Second, seeder)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.BytesWritten() - written; got != f.info.Piece(bad).Length() {
		t.Errorf("repair wrote %d bytes, want one piece of %d", got, f.info.Piece(bad).Length())
	}
	sameFiles(t, f, dl)
	if n := checkCatalogAgainstDisk(t, db, f, dl); n != f.info.NumPieces() {
		t.Fatalf("catalog records %d of %d pieces complete after repair", n, f.info.NumPieces())
	}
}
