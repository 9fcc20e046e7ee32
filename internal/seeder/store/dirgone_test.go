package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/storage"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestDataDirIsMadeOnlyForAFreshDownload: the store makes a missing data
// directory for a torrent that never had data there (a fresh download),
// and never again once it had: after the directory it wrote into is
// moved away, or for a torrent registered with pieces recorded complete
// whose directory is missing, a write fails with ErrDataDirMissing and
// leaves nothing behind (an unmounted disk's mount point stays empty).
// The directory the fresh download's files were made in being gone at
// the next commit does not stop commits (it failed every later commit
// of every torrent): the other torrent's completion is recorded.
func TestDataDirIsMadeOnlyForAFreshDownload(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	s := newStore(t, db)
	write := func(f *fixture, p int) error {
		ti, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih)
		if err != nil {
			return err
		}
		_, err = ti.PieceWithHash(f.info.Piece(p), nullHash()).WriteAt(make([]byte, 100), 0)
		return err
	}

	fresh := filepath.Join(t.TempDir(), "mnt", "fresh")
	f := makeTorrent(t, db, "fresh", []int{40_000, 40_000}, fresh)
	if err := s.Register(ctx, f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	if err := write(f, 0); err != nil {
		t.Fatalf("first write of a fresh download: %v", err)
	}
	if fi, err := os.Stat(fresh); err != nil || !fi.IsDir() {
		t.Fatalf("the fresh download's directory was not made: %v", err)
	}
	if err := os.Rename(fresh, fresh+".away"); err != nil {
		t.Fatal(err)
	}
	s.files.closeAll() // as after the engine dropped the descriptors
	if err := write(f, 1); !errors.Is(err, datadir.ErrDataDirMissing) {
		t.Fatalf("write after the directory was moved away: %v, want ErrDataDirMissing", err)
	}
	if _, err := os.Lstat(fresh); !os.IsNotExist(err) {
		t.Fatalf("the moved-away directory was made again (lstat: %v)", err)
	}

	// Recorded complete, directory missing before the store ever saw it.
	had := filepath.Join(t.TempDir(), "had")
	g := makeTorrent(t, db, "had", []int{40_000}, had)
	copyTree(t, g, had)
	if err := s.Register(ctx, g.cat, g.fs); err != nil {
		t.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(ctx, &g.info, g.ih)
	if err != nil {
		t.Fatal(err)
	}
	if err := ti.PieceWithHash(g.info.Piece(0), nullHash()).MarkComplete(); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := newStore(t, db) // a restart: nothing seen, piece 0 recorded complete
	if err := os.RemoveAll(had); err != nil {
		t.Fatal(err)
	}
	if err := s2.Register(ctx, g.cat, g.fs); err != nil {
		t.Fatal(err)
	}
	ti, err = s2.ClientImpl().OpenTorrent(ctx, &g.info, g.ih)
	if err != nil {
		t.Fatal(err)
	}
	last := g.info.NumPieces() - 1
	if _, err := ti.PieceWithHash(g.info.Piece(last), nullHash()).WriteAt(make([]byte, 100), 0); !errors.Is(err, datadir.ErrDataDirMissing) {
		t.Fatalf("write to a torrent with a piece recorded complete and no directory: %v, want ErrDataDirMissing", err)
	}
	if _, err := os.Lstat(had); !os.IsNotExist(err) {
		t.Fatalf("the directory of a torrent with data recorded was made (lstat: %v)", err)
	}
}

// TestDataDirThereAtOpenIsNeverMadeAgain: a torrent with nothing recorded
// whose directory exists when the engine opens it (a download begun
// earlier, or data not hashed yet) had data there: moved away before the
// store opened any file in it, it is not made again.
func TestDataDirThereAtOpenIsNeverMadeAgain(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dir := filepath.Join(t.TempDir(), "begun")
	f, ti := openWithData(t, db, newStore(t, db), "begun", dir)
	if _, err := ti.PieceWithHash(f.info.Piece(0), nullHash()).WriteAt(make([]byte, 100), 0); !errors.Is(err, datadir.ErrDataDirMissing) {
		t.Fatalf("write after the directory seen at open was moved away: %v, want ErrDataDirMissing", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Fatalf("the directory was made again (lstat: %v)", err)
	}
}

// TestReadFindingTheDataDirGoneWaitsForTheDrop: a peer's read that finds
// the data directory gone tells OnDataDirMissing and is held until the
// engine closes the torrent's storage, then answers zeros without an
// error (never sent: the engine closed the connections with it; an error
// then panics v1.61.0's servePeerRequest). Without a close within
// DirMissingHold it returns its error.
func TestReadFindingTheDataDirGoneWaitsForTheDrop(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	told := make(chan error, 4)
	s, err := New(Options{DB: db, Logger: testLogger(t), DirMissingHold: time.Second,
		OnDataDirMissing: func(id int64, err error) { told <- err }})
	if err != nil {
		t.Fatal(err)
	}
	f, ti := openWithData(t, db, s, "seeding", filepath.Join(t.TempDir(), "seeding"))
	p := ti.PieceWithHash(f.info.Piece(0), nullHash())

	// No drop: the error, after the hold.
	buf := make([]byte, 100)
	if _, err := p.ReadAt(buf, 0); !errors.Is(err, datadir.ErrDataDirMissing) {
		t.Fatalf("read with no drop: %v, want ErrDataDirMissing after the hold", err)
	}
	if err := <-told; !errors.Is(err, datadir.ErrDataDirMissing) {
		t.Fatalf("OnDataDirMissing told %v", err)
	}

	// The drop comes while the read waits: zeros, no error.
	type result struct {
		n   int
		err error
	}
	got := make(chan result, 1)
	for i := range buf {
		buf[i] = 0xff
	}
	go func() {
		n, err := p.ReadAt(buf, 0)
		got <- result{n, err}
	}()
	<-told // the read found the directory gone and waits
	select {
	case r := <-got:
		t.Fatalf("the read returned (%d, %v) before the drop", r.n, r.err)
	default:
	}
	if err := ti.Close(); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || r.n != len(buf) || !bytes.Equal(buf, make([]byte, len(buf))) {
		t.Fatalf("read held over the drop: (%d, %v), want %d zero bytes and no error", r.n, r.err, len(buf))
	}
}

// openWithData makes a one-file torrent whose data is in dir, registers
// and opens it in s, then moves dir away: a data directory gone while
// the torrent is in the engine.
func openWithData(t *testing.T, db *catalog.DB, s *Store, name, dir string) (*fixture, storage.TorrentImpl) {
	t.Helper()
	ctx := context.Background()
	f := makeTorrent(t, db, name, []int{40_000}, dir)
	copyTree(t, f, dir)
	if err := s.Register(ctx, f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	return f, ti
}
