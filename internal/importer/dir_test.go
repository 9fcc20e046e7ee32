package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/torrentfile"
)

// writeTorrent makes a one-file dataset named name and writes its
// .torrent into dir.
func writeTorrent(t testing.TB, src, dir, name string) *torrentfile.Torrent {
	t.Helper()
	data := filepath.Join(src, name)
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "f.bin"), []byte(src+"/"+name), 0o644); err != nil {
		t.Fatal(err)
	}
	tf, err := torrentfile.Create(context.Background(), torrentfile.CreateOptions{Path: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".torrent"), tf.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return tf
}

func importDirOnce(t *testing.T, db *catalog.DB, coll catalog.Collection, dir string) DirResult {
	t.Helper()
	res, err := ImportDir(context.Background(), db, "", coll, dir, "config")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestImportDirReadsUnchangedFilesOnce: the second import of a torrent_dir
// opens none of its files; a touched file, or one whose torrent left the
// catalog, is read once more; a file whose torrent overlaps another fails
// and is tried again.
func TestImportDirReadsUnchangedFilesOnce(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	root := t.TempDir()
	dir := filepath.Join(root, "torrents")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	coll, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", DataRoot: filepath.Join(root, "data"), Source: "config"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var tfs []*torrentfile.Torrent
	for i := range n {
		tfs = append(tfs, writeTorrent(t, filepath.Join(root, "src"), dir, fmt.Sprintf("t%02d", i)))
	}
	if res := importDirOnce(t, db, coll, dir); res.Files != n || res.Read != n || len(res.Imported) != n || len(res.Failed) != 0 {
		t.Fatalf("first import: %d files, %d read, %d imported, failed %v", res.Files, res.Read, len(res.Imported), res.Failed)
	}
	if res := importDirOnce(t, db, coll, dir); res.Files != n || res.Read != 0 || len(res.Imported) != 0 {
		t.Fatalf("second import: %d files, %d read, %d imported; want %d, 0, 0", res.Files, res.Read, len(res.Imported), n)
	}

	touched := filepath.Join(dir, "t03.torrent")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(touched, later, later); err != nil {
		t.Fatal(err)
	}
	if res := importDirOnce(t, db, coll, dir); res.Read != 1 || len(res.Imported) != 0 || len(res.Failed) != 0 {
		t.Fatalf("after touching one file: %d read, %d imported, failed %v; want 1, 0, none", res.Read, len(res.Imported), res.Failed)
	}
	if res := importDirOnce(t, db, coll, dir); res.Read != 0 {
		t.Fatalf("touched file read again: %d reads", res.Read)
	}

	gone, err := db.TorrentByRef(ctx, tfs[5].Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTorrent(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if res := importDirOnce(t, db, coll, dir); res.Read != 1 || len(res.Imported) != 1 || res.Imported[0].Torrent.InfoHash != tfs[5].InfoHash {
		t.Fatalf("after removing a torrent from the catalog: %d read, imported %+v; want it imported again", res.Read, res.Imported)
	}

	// Same name, other content: the same data directory, refused.
	other := filepath.Join(root, "other")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTorrent(t, filepath.Join(root, "src2"), other, "t07")
	if err := os.Rename(filepath.Join(other, "t07.torrent"), filepath.Join(dir, "t07-copy.torrent")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res := importDirOnce(t, db, coll, dir)
		if res.Read != 1 || len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, ErrOverlap) {
			t.Fatalf("overlapping file: %d read, failed %v; want 1 read and ErrOverlap (each time)", res.Read, res.Failed)
		}
	}
}

// TestIndexFindsOverlapsThroughSymlinksBothWays: a torrent stored under a
// symlinked path and a new one under the real path (and the reverse)
// are found to share a directory.
func TestIndexFindsOverlapsThroughSymlinksBothWays(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	root := t.TempDir()
	real := filepath.Join(root, "disk")
	if err := os.MkdirAll(filepath.Join(real, "set"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(root, "alias")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	files := []catalog.File{{Path: "a.bin", Length: 1}, {Index: 1, Path: "b.bin", Length: 1, Offset: 1}}
	nt := func(b byte, dir string) catalog.NewTorrent {
		return catalog.NewTorrent{Collection: "c", InfoHash: [20]byte{b}, Name: "set", DataDir: dir, Files: files}
	}
	for _, c := range []struct{ stored, added string }{
		{filepath.Join(root, "alias", "set"), filepath.Join(real, "set")},
		{filepath.Join(real, "set"), filepath.Join(root, "alias", "set", "sub")},
	} {
		first, err := db.AddTorrent(ctx, nt(1, c.stored))
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckOverlap(ctx, db, nt(2, c.added)); !errors.Is(err, ErrOverlap) {
			t.Fatalf("stored %s, added %s: %v, want ErrOverlap", c.stored, c.added, err)
		}
		if err := CheckOverlap(ctx, db, nt(2, filepath.Join(root, "elsewhere"))); err != nil {
			t.Fatalf("unrelated directory refused: %v", err)
		}
		if err := db.DeleteTorrent(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSingleFileTorrentsShareADirectory: single-file torrents side by side
// in one directory are accepted; one whose file is another's, or a
// multi-file torrent whose directory is another's file, is refused.
func TestSingleFileTorrentsShareADirectory(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	dir := filepath.Join(t.TempDir(), "flat")
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	single := func(b byte, name string) catalog.NewTorrent {
		return catalog.NewTorrent{Collection: "c", InfoHash: [20]byte{b}, Name: name, DataDir: dir,
			Files: []catalog.File{{Path: name, Length: 1}}}
	}
	for i := range 50 {
		nt := single(byte(i+1), fmt.Sprintf("f%02d.bin", i))
		if err := CheckOverlap(ctx, db, nt); err != nil {
			t.Fatalf("single file %d refused: %v", i, err)
		}
		if _, err := db.AddTorrent(ctx, nt); err != nil {
			t.Fatal(err)
		}
	}
	if err := CheckOverlap(ctx, db, single(200, "f07.bin")); !errors.Is(err, ErrOverlap) {
		t.Fatalf("same file name in the same directory: %v, want ErrOverlap", err)
	}
	multi := catalog.NewTorrent{Collection: "c", InfoHash: [20]byte{201}, Name: "f08.bin", DataDir: filepath.Join(dir, "f08.bin"),
		Files: []catalog.File{{Path: "a", Length: 1}, {Index: 1, Path: "b", Length: 1, Offset: 1}}}
	if err := CheckOverlap(ctx, db, multi); !errors.Is(err, ErrOverlap) {
		t.Fatalf("a directory where a single file lies: %v, want ErrOverlap", err)
	}
	if err := CheckOverlap(ctx, db, single(202, "other.bin")); err != nil {
		t.Fatalf("a new single file beside them refused: %v", err)
	}
}
