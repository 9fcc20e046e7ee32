package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestReleaseMakesHeldPiecesUnknown: `archivd resume --force` releases
// held findings as open damage, and their pieces, left recorded complete
// by the hold, become unknown (hashed before the engine serves them).
// Found by the e2e lifecycle test: after resume --force the pieces of a
// deleted directory stayed recorded complete over missing files.
func TestReleaseMakesHeldPiecesUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	nt := newTorrent("c", 9, 10)
	nt.Verified = true
	tor, err := db.AddTorrent(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	obs := catalog.FindingObservation{TorrentID: tor.ID, First: 0, Count: 10, Touch: true,
		Bad: []catalog.VerifyFinding{{Piece: 2, Kind: catalog.FindingMissingFile, FileIndex: -1}, {Piece: 3, Kind: catalog.FindingMissingFile, FileIndex: -1}}}
	if _, err := db.ObserveFindings(ctx, obs, time.Now()); err != nil {
		t.Fatal(err)
	}
	fs, err := db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: tor.ID})
	if err != nil || len(fs) != 1 {
		t.Fatalf("findings %+v, %v", fs, err)
	}
	if err := db.SetVerifyFindingsState(ctx, []int64{fs[0].ID}, catalog.FindingHeld); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAvailability(ctx, tor.ID, catalog.AvailabilityOf{State: catalog.AvailabilityUnavailable, Cause: catalog.CauseMassFailure, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	was, n, err := db.ReleaseTorrent(ctx, tor.ID)
	if err != nil || !was || n != 1 {
		t.Fatalf("release: was unavailable %v, released %d, %v", was, n, err)
	}
	ps, err := db.LoadPieces(ctx, tor.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for p := range 10 {
		want := catalog.PieceComplete
		if p == 2 || p == 3 {
			want = catalog.PieceUnknown
		}
		if got := ps.State(p); got != want {
			t.Errorf("piece %d: %s after release, want %s", p, got, want)
		}
	}
	if fs, _ := db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: tor.ID}); len(fs) != 1 || fs[0].State != catalog.FindingOpen {
		t.Fatalf("findings after release: %+v, want one open", fs)
	}
}
