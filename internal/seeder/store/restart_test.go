package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// TestCompletionFromCatalog: recorded complete, recorded not complete and
// never recorded pieces read back as Complete, Ok && !Complete, and !Ok.
func TestCompletionFromCatalog(t *testing.T) {
	db := pgtest.New(t)
	f := makeTorrent(t, db, "states", multiFileSizes, filepath.Join(t.TempDir(), "d"))
	ctx := context.Background()
	err := db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{f.cat.ID: {{Piece: 1, Complete: true}, {Piece: 2, Complete: false}}})
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	if err := s.Register(ctx, f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	ts := s.torrent(f.ih)
	for p, want := range map[int][2]bool{0: {false, false}, 1: {true, true}, 2: {true, false}, 3: {false, false}} {
		c := ts.completion(p)
		if c.Ok != want[0] || c.Complete != want[1] {
			t.Errorf("piece %d: Ok=%v Complete=%v, want Ok=%v Complete=%v", p, c.Ok, c.Complete, want[0], want[1])
		}
	}
}

// TestUnknownPiecesHashedAndCleanRestartReadsNothing: data already on disk
// with no recorded state is hashed by the engine; good pieces are then
// recorded complete, a corrupted one not complete and fetched from a peer;
// after a clean stop a new client and store read no piece data at all.
func TestUnknownPiecesHashedAndCleanRestartReadsNothing(t *testing.T) {
	db := pgtest.New(t)
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, "ondisk", multiFileSizes, dl)
	copyTree(t, f, dl)
	const bad = 3
	corruptPiece(t, f, dl, bad)
	ctx := context.Background()

	s := newStore(t, db)
	runStore(t, s)
	if err := s.Register(ctx, f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	n := f.info.NumPieces()
	cl := newClient(t, s.ClientImpl())
	tt, err := cl.AddTorrent(f.mi)
	if err != nil {
		t.Fatal(err)
	}
	ts := s.torrent(f.ih)
	testutil.Eventually(t, 30*time.Second, "every piece hashed", func() bool {
		for i := 0; i < n; i++ {
			if !ts.completion(i).Ok {
				return false
			}
		}
		return true
	})
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ps := loadPieces(t, db, f)
	if !ps.Known.Get(bad) || ps.Complete.Get(bad) || ps.Complete.Count(n) != n-1 || ps.Known.Count(n) != n {
		t.Fatalf("after hashing: %d known, %d complete, bad piece known=%v complete=%v; want all known, %d complete, bad not complete",
			ps.Known.Count(n), ps.Complete.Count(n), ps.Known.Get(bad), ps.Complete.Get(bad), n-1)
	}
	if got := s.BytesRead(); got < f.info.TotalLength() {
		t.Fatalf("hashing read %d bytes, want at least the torrent's %d", got, f.info.TotalLength())
	}

	// The piece recorded not complete is fetched again from a peer.
	seeder := newSeeder(t, f)
	tt.DownloadAll()
	addPeer(tt, seeder)
	waitComplete(t, tt, 30*time.Second, seeder)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, f, dl)
	if c := checkCatalogAgainstDisk(t, db, f, dl); c != n {
		t.Fatalf("catalog records %d of %d pieces complete after repair", c, n)
	}
	cl.Close()
	s.Unregister(f.ih)

	// Clean restart: nothing is read.
	s2 := newStore(t, db)
	runStore(t, s2)
	_, tt2 := addToEngine(t, s2, f)
	waitComplete(t, tt2, 10*time.Second)
	// Not a wait for a state: a window for a wrong re-hash to show; a hash
	// that should not happen signals nothing.
	time.Sleep(200 * time.Millisecond)
	if r := s2.BytesRead(); r != 0 {
		t.Fatalf("clean restart read %d bytes of piece data, want 0", r)
	}
}
