package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

func TestCLIPlacementsFindingsAndForcedCollectionRemoval(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	add := func(b byte, name string, files ...catalog.File) catalog.Torrent {
		n := catalog.NewTorrent{Collection: "c", Name: name, DataDir: "/d/" + name, Files: files}
		n.InfoHash[0] = b
		if files != nil {
			n.Metainfo, n.PieceLength, n.PieceCount, n.TotalLength = []byte("d4:infod"), 16384, 1, 10
		}
		tor, err := db.AddTorrent(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return tor
	}
	single := add(1, "one.bin", catalog.File{Path: "one.bin", Length: 10})
	add(2, "multi", catalog.File{Path: "a", Length: 5}, catalog.File{Index: 1, Path: "b", Length: 5, Offset: 5})
	add(3, "magnet")
	ps, err := db.Placements(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owns := map[string]bool{}
	for _, p := range ps {
		owns[p.Name] = p.OwnsDir
	}
	if len(ps) != 3 || owns["one.bin"] || !owns["multi"] || !owns["magnet"] {
		t.Fatalf("placements %+v", ps)
	}
	pgtest.Exec(t, db, `INSERT INTO findings (torrent_id, piece, kind) VALUES ($1, 0, 'hash_mismatch'), ($1, 1, 'io_error')`, single.ID)
	pgtest.Exec(t, db, `UPDATE findings SET state = 'repaired' WHERE piece = 1`)
	if n, err := db.OpenFindingCount(ctx, single.ID); err != nil || n != 1 {
		t.Fatalf("open findings %d %v", n, err)
	}
	if n, err := db.DeleteCollectionWithTorrents(ctx, "c"); err != nil || n != 3 {
		t.Fatalf("forced removal %d %v", n, err)
	}
	if _, err := db.DeleteCollectionWithTorrents(ctx, "c"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("second removal: %v", err)
	}
}
