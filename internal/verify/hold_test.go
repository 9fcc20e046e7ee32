package verify

import (
	"context"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// A hold (mass failure) leaves no piece it read bad recorded complete: the
// held findings' pieces become unknown (not "not complete": nothing is
// fetched over data that may only be unmounted). The re-check judges them
// with the recorded-complete pieces: put right, they are no longer bad;
// still bad, they are recorded not complete and their finding goes to
// repairing; read good, they are recorded complete again. Before, the hold left them recorded complete over bad data
// for as long as the torrent was unavailable.
func TestHeldPiecesAreNotRecordedCompleteAndTheRecheckJudgesThem(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	fx := addTorrent(t, db, t.TempDir(), "rotten", 16<<10, 160_000) // 10 pieces
	for p := range 3 {
		fx.flip(t, int64(p)*16<<10) // 30% > the 20% guard: held
	}
	cfg := testConfig(t)
	cfg.Repairer = &recordingRepairer{calls: make(chan markBad, 4)}
	if _, err := RunOffline(ctx, db, cfg, Scope{}, nil); err != nil {
		t.Fatal(err)
	}
	states := func() []catalog.PieceState {
		ps, err := db.LoadPieces(ctx, fx.T.ID, fx.T.PieceCount)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]catalog.PieceState, fx.T.PieceCount)
		for p := range out {
			out[p] = ps.State(p)
		}
		return out
	}
	for p, st := range states() {
		want := catalog.PieceComplete
		if p < 3 {
			want = catalog.PieceUnknown
		}
		if st != want {
			t.Fatalf("after the hold: piece %d %s, want %s", p, st, want)
		}
	}
	// Pieces 0 and 1 put right, piece 2 still bad: 1 of 10, under the guard.
	fx.flip(t, 0)
	fx.flip(t, 16<<10)
	res, err := Recheck(ctx, db, cfg, fx.T.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Available || res.Checked != 10 || res.Bad != 1 {
		t.Fatalf("re-check %+v, want available, 10 judged, 1 bad", res)
	}
	st := states()
	if st[2] != catalog.PieceNotComplete {
		t.Fatalf("after the re-check: piece 2 (still bad) %s, want not complete", st[2])
	}
	for p := range 2 {
		if st[p] != catalog.PieceComplete {
			t.Fatalf("after the re-check: piece %d (put right) %s, want complete", p, st[p])
		}
	}
	fs, err := db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: fx.T.ID, States: catalog.OpenFindingStates})
	if err != nil || len(fs) != 1 || fs[0].Piece != 2 || fs[0].PieceCount != 1 || fs[0].State != catalog.FindingRepairing {
		t.Fatalf("open findings after the re-check: %+v, %v; want piece 2 repairing", fs, err)
	}
}
