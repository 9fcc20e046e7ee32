package importer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/torrentfile"
)

// PlacedDirs loads only the placements near its candidate directories
// (catalog.PlacementsNear), not the whole catalog, and still avoids every
// overlap: a torrent of the catalog in the same directory, below it, or
// above it (a single-file torrent whose file is the candidate directory;
// a multi-file torrent owning the collection's root), and a torrent placed
// in the same call; a single-file torrent placed goes in the shared root
// unless its file would be another torrent's directory. Each choice is also the one the whole catalog's Index
// (LoadIndex, what PlacedDirs read before) makes.
func TestPlacedDirsAvoidNearTorrentsAndEachOther(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	c, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := db.CreateCollection(ctx, catalog.Collection{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := db.StartNode(ctx, n, "h"); err != nil {
			t.Fatal(err)
		}
	}
	root, kroot := CollectionRoot(dataDir, c), CollectionRoot(dataDir, k)
	a, b := db.ForNode("a"), db.ForNode("b")
	torrents := t.TempDir()
	// add adds, on node a, a multi-file torrent named name (its content
	// made unique by src) in data directory dir.
	add := func(coll, name, dir string) catalog.Torrent {
		t.Helper()
		tf := writeTorrent(t, t.TempDir(), torrents, name)
		tor, err := a.AddTorrent(ctx, NewTorrentOf(tf, coll, dir))
		if err != nil {
			t.Fatal(err)
		}
		return tor
	}
	elsewhere := func(name string) string { return filepath.Join(t.TempDir(), name) }
	// addSingle adds a single-file torrent named name in dir (which it
	// shares).
	addSingle := func(name, dir string) catalog.Torrent {
		t.Helper()
		src := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(src, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		single, err := torrentfile.Create(ctx, torrentfile.CreateOptions{Path: src})
		if err != nil {
			t.Fatal(err)
		}
		tor, err := a.AddTorrent(ctx, NewTorrentOf(single, "c", dir))
		if err != nil {
			t.Fatal(err)
		}
		return tor
	}
	addSingle("anc", root)       // its file is root/anc
	addSingle("other.bin", root) // beside the single-file ones placed below
	add("c", "solo.bin", filepath.Join(root, "solo.bin"))
	add("c", "eq", filepath.Join(root, "eq"))               // equal
	add("c", "inner", filepath.Join(root, "desc", "inner")) // below
	add("c", "freex", filepath.Join(root, "freex"))         // beside, sharing a prefix
	add("k", "k", kroot)                                    // owns the whole root of k
	eq, desc, anc := add("c", "eq", elsewhere("eq")), add("c", "desc", elsewhere("desc")), add("c", "anc", elsewhere("anc"))
	twin1, twin2, free := add("c", "twin", elsewhere("twin")), add("c", "twin", elsewhere("twin")), add("c", "free", elsewhere("free"))
	in := func(tor catalog.Torrent, suffixed bool) string {
		if suffixed {
			return filepath.Join(root, tor.Name+"-"+tor.HexHash())
		}
		return filepath.Join(root, tor.Name)
	}
	// Single-file torrents placed: in root (shared), unless their file
	// would be where a directory is.
	solo, freeFile := addSingle("solo.bin", elsewhere("s")), addSingle("free.bin", elsewhere("f"))
	ts := []catalog.Torrent{eq, desc, anc, twin1, twin2, free, solo, freeFile}
	want := []string{in(eq, true), in(desc, true), in(anc, true), in(twin1, false), in(twin2, true), in(free, false),
		in(solo, true), root}
	dirs, err := PlacedDirs(ctx, b, dataDir, ts)
	if err != nil || strings.Join(dirs, " ") != strings.Join(want, " ") {
		t.Fatalf("placed in %q (%v), want %q", dirs, err, want)
	}
	if whole := wholeCatalogDirs(t, b, dataDir, ts); strings.Join(whole, " ") != strings.Join(want, " ") {
		t.Fatalf("the whole catalog's index chooses %q, PlacedDirs %q", whole, dirs)
	}
	// Below a directory a torrent owns, no directory is free: refused,
	// the torrents before it chosen.
	inK := add("k", "anc2", elsewhere("anc2"))
	dirs, err = PlacedDirs(ctx, b, dataDir, []catalog.Torrent{free, inK})
	if len(dirs) != 1 || dirs[0] != in(free, false) || err == nil || !strings.Contains(err.Error(), "no data directory free") ||
		!strings.Contains(err.Error(), kroot) {
		t.Fatalf("placed in %q (%v), want %s then no directory free (%s)", dirs, err, in(free, false), kroot)
	}
}

// wholeCatalogDirs chooses the directories of ts as PlacedDirs did before
// catalog.PlacementsNear: over an Index of every placement.
func wholeCatalogDirs(t *testing.T, db *catalog.DB, dataDir string, ts []catalog.Torrent) []string {
	t.Helper()
	ctx := context.Background()
	ix, err := LoadIndex(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tor := range ts {
		c, err := db.Collection(ctx, tor.Collection)
		if err != nil {
			t.Fatal(err)
		}
		files, err := db.FilesOf(ctx, []int64{tor.ID})
		if err != nil {
			t.Fatal(err)
		}
		tf, err := torrentfile.Parse(tor.Metainfo)
		if err != nil {
			t.Fatal(err)
		}
		root := CollectionRoot(dataDir, c)
		dir, err := ix.placedDir(ctx, db, [2]string{tf.DataDirFor(root), filepath.Join(root, tor.Name+"-"+tor.HexHash())}, tor, files[tor.ID])
		if err != nil {
			t.Fatal(err)
		}
		ix.Add(catalog.Placement{ID: tor.ID, Name: tor.Name, Collection: tor.Collection, InfoHash: tor.InfoHash, DataDir: dir,
			OwnsDir: ownsDir(tor.Name, files[tor.ID])})
		out = append(out, dir)
	}
	return out
}
