package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/archivd/archivd/internal/pgtest"
)

// TestCommitDropsStatesOfDeletedTorrent: a torrent deleted from the
// catalog while its completions wait must not block the other torrents'
// commits forever.
func TestCommitDropsStatesOfDeletedTorrent(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	gone := makeTorrent(t, db, "gone", []int{40_000}, filepath.Join(t.TempDir(), "a"))
	kept := makeTorrent(t, db, "kept", []int{50_000}, filepath.Join(t.TempDir(), "b"))
	s := newStore(t, db)
	for _, f := range []*fixture{gone, kept} {
		if err := s.Register(ctx, f.cat, f.fs); err != nil {
			t.Fatal(err)
		}
		ti, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih)
		if err != nil {
			t.Fatal(err)
		}
		p := ti.PieceWithHash(f.info.Piece(0), nullHash())
		if _, err := p.WriteAt(make([]byte, testPieceLen), 0); err != nil {
			t.Fatal(err)
		}
		if err := p.MarkComplete(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteTorrent(ctx, gone.cat.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("flush after a torrent was deleted: %v", err)
	}
	if h := s.Health(); !h.DBOK || h.Pending != 0 {
		t.Fatalf("health %+v, want OK and nothing pending", h)
	}
	if ps := loadPieces(t, db, kept); !ps.Known.Get(0) || !ps.Complete.Get(0) {
		t.Fatal("the other torrent's completion was not recorded")
	}
}
