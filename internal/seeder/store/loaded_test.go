package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestRegisterLoadedUsesBulkStatesUnlessStale: states loaded for two
// torrents in one query answer the engine like Register's own load; once
// the store has written piece states after the load, the bulk states are
// not trusted and the torrent's states are read again.
func TestRegisterLoadedUsesBulkStatesUnlessStale(t *testing.T) {
	db := pgtest.New(t)
	a := makeTorrent(t, db, "bulk-a", multiFileSizes, filepath.Join(t.TempDir(), "a"))
	b := makeTorrent(t, db, "bulk-b", multiFileSizes, filepath.Join(t.TempDir(), "b"))
	ctx := context.Background()
	err := db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{
		a.cat.ID: {{Piece: 1, Complete: true}, {Piece: 2, Complete: false}},
		b.cat.ID: {{Piece: 0, Complete: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	l, err := s.LoadMany(ctx, map[int64]int{a.cat.ID: a.cat.PieceCount, b.cat.ID: b.cat.PieceCount})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterLoaded(ctx, a.cat, a.fs, l); err != nil {
		t.Fatal(err)
	}
	ts := s.torrent(a.ih)
	for p, want := range map[int][2]bool{0: {false, false}, 1: {true, true}, 2: {true, false}, 3: {false, false}} {
		if c := ts.completion(p); c.Ok != want[0] || c.Complete != want[1] {
			t.Errorf("a, piece %d: Ok=%v Complete=%v, want Ok=%v Complete=%v", p, c.Ok, c.Complete, want[0], want[1])
		}
	}
	// A write of b's states after the load: b's bulk states are stale.
	if err := s.store(ctx, map[int64][]catalog.PieceUpdate{b.cat.ID: {{Piece: 0, Complete: false}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterLoaded(ctx, b.cat, b.fs, l); err != nil {
		t.Fatal(err)
	}
	if c := s.torrent(b.ih).completion(0); !c.Ok || c.Complete {
		t.Fatalf("b, piece 0 after a write that followed the bulk load: Ok=%v Complete=%v, want recorded not complete", c.Ok, c.Complete)
	}
}
