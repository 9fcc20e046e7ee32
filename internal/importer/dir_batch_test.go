package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/torrentfile"
)

// createTorrent writes the .torrent of path (a file: a single-file
// torrent; a directory: a multi-file one) to out.
func createTorrent(t *testing.T, path, out string) *torrentfile.Torrent {
	t.Helper()
	tf, err := torrentfile.Create(context.Background(), torrentfile.CreateOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, tf.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return tf
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Torrents of one import are checked against each other as against the
// catalog, though they reach it in batches: a second copy of a torrent is
// the same torrent, a torrent with another's data directory is refused,
// and a single file where a torrent of the same import has its directory
// is refused (that check reads the other torrent's files from the
// catalog, so its batch goes first).
func TestImportDirChecksTheTorrentsOfOneImportAgainstEachOther(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	root := t.TempDir()
	dir, src := filepath.Join(root, "torrents"), filepath.Join(root, "src")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	coll, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", DataRoot: filepath.Join(root, "data"), Source: "config"})
	if err != nil {
		t.Fatal(err)
	}
	// 1: a directory "a" with a file in it; 2: the same torrent again;
	// 3: another directory "a" (other content: the same data directory);
	// 4: a single file "a" (where 1 has its directory).
	writeFile(t, filepath.Join(src, "one", "a", "b.bin"), "one")
	multi := createTorrent(t, filepath.Join(src, "one", "a"), filepath.Join(dir, "1.torrent"))
	createTorrent(t, filepath.Join(src, "one", "a"), filepath.Join(dir, "2.torrent"))
	writeFile(t, filepath.Join(src, "two", "a", "c.bin"), "two")
	createTorrent(t, filepath.Join(src, "two", "a"), filepath.Join(dir, "3.torrent"))
	writeFile(t, filepath.Join(src, "three", "a"), "three")
	createTorrent(t, filepath.Join(src, "three", "a"), filepath.Join(dir, "4.torrent"))

	res := importDirOnce(t, db, coll, dir)
	if len(res.Imported) != 1 || res.Imported[0].Torrent.InfoHash != multi.InfoHash {
		t.Fatalf("imported %+v, want only 1.torrent", res.Imported)
	}
	failed := map[string]error{}
	for _, f := range res.Failed {
		failed[filepath.Base(f.Path)] = f.Err
	}
	if len(failed) != 2 || !errors.Is(failed["3.torrent"], ErrOverlap) || !errors.Is(failed["4.torrent"], ErrOverlap) {
		t.Fatalf("failed %v, want 3.torrent and 4.torrent refused as overlapping", res.Failed)
	}
	ts, err := db.Torrents(ctx, catalog.TorrentFilter{})
	if err != nil || len(ts) != 1 {
		t.Fatalf("catalog holds %d torrents (%v), want 1", len(ts), err)
	}
	known, err := db.TorrentDirFiles(ctx, coll.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := known[filepath.Join(dir, "1.torrent")]; !ok || len(known) != 2 {
		t.Fatalf("files recorded as seen: %v, want 1.torrent and 2.torrent", known)
	}
}

// A batch that fails as a whole (here: one of its torrents was added by
// someone else after the checks) is added one by one: that torrent counts
// as in the catalog, the others are imported.
func TestImportBatchThatFailsIsAddedOneByOne(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	root := t.TempDir()
	coll, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", DataRoot: filepath.Join(root, "data"), Source: "config"})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := LoadIndex(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var res DirResult
	im := &dirImport{db: db, ix: ix, res: &res}
	var nts []catalog.NewTorrent
	for i, name := range []string{"x", "y", "z"} {
		writeFile(t, filepath.Join(root, "src", name, "f.bin"), name)
		tf := createTorrent(t, filepath.Join(root, "src", name), filepath.Join(root, name+".torrent"))
		nt := NewTorrentOf(tf, coll.Name, tf.DataDirFor(CollectionRoot("", coll)))
		if err := ix.Check(ctx, db, nt); err != nil {
			t.Fatal(err)
		}
		ix.AddPending(nt)
		im.pending = append(im.pending, pendingImport{nt, catalog.DirFile{Path: name, InfoHash: tf.InfoHash, Size: int64(i)}})
		nts = append(nts, nt)
	}
	if _, err := db.AddTorrent(ctx, nts[1]); err != nil { // someone else adds y
		t.Fatal(err)
	}
	if err := im.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 2 || res.Imported[0].Torrent.Name != "x" || res.Imported[1].Torrent.Name != "z" || len(res.Failed) != 0 {
		t.Fatalf("imported %+v, failed %v; want x and z", res.Imported, res.Failed)
	}
	if len(im.seen) != 3 {
		t.Fatalf("seen %v, want all three files", im.seen)
	}
	ts, err := db.Torrents(ctx, catalog.TorrentFilter{})
	if err != nil || len(ts) != 3 {
		t.Fatalf("catalog holds %d torrents (%v), want 3", len(ts), err)
	}
}
