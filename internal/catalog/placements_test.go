package catalog_test

import (
	"context"
	"errors"
	"strings"
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

// PlacementsNear returns exactly the placements whose directory (this
// node's replica's, else the torrent's as added) equals, contains or lies
// below one of the given directories: not a sibling sharing a prefix
// ("/d/setx" for "/d/set"), not a removed torrent, not a torrent this
// node keeps elsewhere, not a single-file torrent of an ancestor
// directory whose file is beside the path.
func TestPlacementsNearListsEqualAncestorAndBelowOnly(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := db.StartNode(ctx, n, "h"); err != nil {
			t.Fatal(err)
		}
	}
	a, b := db.ForNode("a"), db.ForNode("b")
	ids := map[string]int64{}
	add := func(b byte, name, dir string) {
		t.Helper()
		n := catalog.NewTorrent{Collection: "c", Name: name, DataDir: dir}
		n.InfoHash[0] = b
		tor, err := a.AddTorrent(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = tor.ID
	}
	add(1, "equal", "/d/set")
	add(2, "below", "/d/set/x/y")
	add(3, "above", "/d")
	add(4, "slash", "/d/set/z/")
	add(5, "sibling", "/d/setx")
	add(6, "short", "/d/se")
	add(7, "other", "/e/set")
	add(8, "removed", "/d/set/r")
	add(9, "moved", "/d/set/m") // a keeps it in /e/m
	add(10, "movedin", "/e/in") // a keeps it in /d/set/in
	// Single-file torrents in /d: only the one whose file is /d/set (or
	// above or below it) can overlap something at /d/set.
	single := func(b byte, name, dir string) {
		t.Helper()
		n := catalog.NewTorrent{Collection: "c", Name: name, DataDir: dir, Files: []catalog.File{{Path: name, Length: 10}},
			Metainfo: []byte("d4:infod"), PieceLength: 16384, PieceCount: 1, TotalLength: 10}
		n.InfoHash[0] = b
		if _, err := a.AddTorrent(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	single(11, "set", "/d")
	single(12, "other.bin", "/d")
	pgtest.Exec(t, db, `UPDATE torrents SET state = 'removed' WHERE id = $1`, ids["removed"])
	pgtest.Exec(t, db, `UPDATE replicas SET data_dir = '/e/m' WHERE torrent_id = $1`, ids["moved"])
	pgtest.Exec(t, db, `UPDATE replicas SET data_dir = '/d/set/in' WHERE torrent_id = $1`, ids["movedin"])
	names := func(h *catalog.DB, dirs ...string) string {
		t.Helper()
		ps, err := h.PlacementsNear(ctx, dirs)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.Name+"@"+p.DataDir)
		}
		return strings.Join(out, " ")
	}
	if got, want := names(a, "/d/set"), "equal@/d/set below@/d/set/x/y above@/d slash@/d/set/z/ movedin@/d/set/in set@/d"; got != want {
		t.Fatalf("a near /d/set: %s, want %s", got, want)
	}
	// b holds no replica: each torrent is where it was added.
	if got, want := names(b, "/d/set/"), "equal@/d/set below@/d/set/x/y above@/d slash@/d/set/z/ moved@/d/set/m set@/d"; got != want {
		t.Fatalf("b near /d/set/: %s, want %s", got, want)
	}
	if got, want := names(b, "/d/set/z", "/e/set/q"), "equal@/d/set above@/d slash@/d/set/z/ other@/e/set set@/d"; got != want {
		t.Fatalf("b near /d/set/z and /e/set/q: %s, want %s", got, want)
	}
	if got := names(b); got != "" {
		t.Fatalf("near no directory: %s", got)
	}
}
