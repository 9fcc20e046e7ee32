package seeder

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/version"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// damage overwrites a few bytes of x.bin inside piece 1 (256 KiB pieces).
func damage(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "x.bin"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("bitrot!"), 256<<10+100); err != nil {
		t.Fatal(err)
	}
}

// copyData makes node B's copy of src.
func copyData(t *testing.T, src string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRepairSourceNamesWebSeed: a piece handed over by MarkBad is fetched
// again from the torrent's only source, an HTTP web seed on loopback, and
// RepairSource names that web seed by its URL.
func TestRepairSourceNamesWebSeed(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "ws", 81)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(src))))
	defer srv.Close()
	dir := copyData(t, src)
	files := make([]catalog.File, len(tf.Files))
	for i, f := range tf.Files {
		files[i] = catalog.File{Index: f.Index, Path: f.Path, Length: f.Length, Offset: f.Offset}
	}
	row, err := db.AddTorrent(ctx, catalog.NewTorrent{Collection: "c", InfoHash: tf.InfoHash, Name: tf.Name,
		Metainfo: tf.Raw, PieceLength: tf.PieceLength, PieceCount: tf.PieceCount, TotalLength: tf.TotalLength,
		DataDir: dir, Files: files, Verified: true, WebSeeds: []string{srv.URL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, testConfig(t, "W"), db)
	waitFor(t, 10*time.Second, "seeding", inEngine(s, row.InfoHash))
	damage(t, dir)
	if err := s.MarkBad(ctx, row.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "piece 1 repaired", func() bool { return completeInCatalog(t, db, row) == tf.PieceCount })
	sameFiles(t, tf, src, dir)
	if got, want := s.RepairSource(row.ID, 1), "web seed "+srv.URL+"/"; got != want {
		t.Fatalf("repair source %q, want %q", got, want)
	}
}

// TestRepairSourceKnownAfterRestart: a node restarted while a finding is
// being repaired (piece recorded not complete, finding 'repairing' in the
// catalog) watches that piece as it adds the torrent, so the delivering
// peer is still named.
func TestRepairSourceKnownAfterRestart(t *testing.T) {
	ctx := context.Background()
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "rs", 82)
	addTorrent(t, dbA, tf, src, true)
	a := start(t, testConfig(t, "A"), dbA)
	dirB := copyData(t, src)
	rowB := addTorrent(t, dbB, tf, dirB, true)
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())
	// What the previous process left: piece 1 damaged and recorded not
	// complete by MarkBad, its finding being repaired.
	damage(t, dirB)
	if err := dbB.StorePieces(ctx, map[int64][]catalog.PieceUpdate{rowB.ID: {{Piece: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := dbB.Pool.Exec(ctx, `INSERT INTO findings (torrent_id, piece, kind, state) VALUES ($1, 1, 'hash_mismatch', 'repairing')`, rowB.ID); err != nil {
		t.Fatal(err)
	}
	b := start(t, testConfig(t, "B"), dbB)
	waitFor(t, 20*time.Second, "piece 1 repaired", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	sameFiles(t, tf, src, dirB)
	want := fmt.Sprintf("peer %s (%s)", a.ListenAddr(), version.DefaultExtendedHandshakeClientVersion)
	if got := b.RepairSource(rowB.ID, 1); got != want {
		t.Fatalf("repair source after restart %q, want %q", got, want)
	}
}
