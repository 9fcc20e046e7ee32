package importer

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// A queued single-file torrent that never reaches the catalog (Forget)
// does not hide the others of its directory: a new torrent whose file is
// that directory is still refused for the one left, and accepted once
// none is left.
func TestForgottenSingleFileTorrentDoesNotHideItsNeighbours(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	root := t.TempDir()
	x := filepath.Join(root, "x")
	single := func(b byte, dir, name string) catalog.NewTorrent {
		return catalog.NewTorrent{Collection: "c", InfoHash: [20]byte{b}, Name: name, DataDir: dir,
			Files: []catalog.File{{Path: name, Length: 1}}}
	}
	// Its one file is root/x: the directory of a.bin and b.bin.
	onX := single(9, root, "x")
	for _, c := range []struct {
		forget [][20]byte
		left   bool // a.bin still queued
	}{{[][20]byte{{2}}, true}, {[][20]byte{{2}, {1}}, false}} {
		ix := newIndex(nil)
		ix.AddPending(single(1, x, "a.bin"))
		ix.AddPending(single(2, x, "b.bin")) // the one singleAbove names for x
		for _, h := range c.forget {
			ix.Forget(h)
		}
		err := ix.Check(ctx, db, onX)
		if c.left && (!errors.Is(err, ErrOverlap) || !strings.Contains(err.Error(), `"a.bin"`)) {
			t.Fatalf("b.bin forgotten: %v, want ErrOverlap naming a.bin", err)
		}
		if !c.left && err != nil {
			t.Fatalf("both forgotten: %v, want accepted", err)
		}
		if err := ix.Check(ctx, db, single(3, x, "b.bin")); err != nil {
			t.Fatalf("b.bin again after it was forgotten: %v", err)
		}
	}
}
