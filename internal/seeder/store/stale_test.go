package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// piecesOf lists the pieces file i of f touches (none for an empty file).
func piecesOf(f *fixture, i int) []int {
	fe := f.fs[i]
	if fe.Length == 0 {
		return nil
	}
	var out []int
	for p := int(fe.Offset / f.info.PieceLength); p <= int((fe.Offset+fe.Length-1)/f.info.PieceLength); p++ {
		out = append(out, p)
	}
	return out
}

// TestFilesDeletedReplacedOrMovedUnderASeedingTorrentAreRewrittenAtTheirPaths:
// a scrub finds a file of a seeding torrent deleted, replaced by another
// file, or moved away (itself or its directory) and hands its pieces over
// (MarkNotComplete); the engine fetches them again from a peer. The pieces
// must be written to the file at the torrent's path, not to the file the
// store had open before, and recorded complete only when the data there
// hashes.
func TestFilesDeletedReplacedOrMovedUnderASeedingTorrentAreRewrittenAtTheirPaths(t *testing.T) {
	db, f, dl, s, tt := inPlace(t, "stale") // every file is read: its descriptor is cached
	ctx := context.Background()
	seeder := newSeeder(t, f)
	tt.DownloadAll()
	addPeer(tt, seeder)
	testutil.Eventually(t, 10*time.Second, "connection to the seeder", func() bool { return len(tt.PeerConns()) > 0 })

	path := func(i int) string { return filepath.Join(dl, filepath.FromSlash(f.fs[i].Path)) }
	// Files in torrent order: d0/f0.bin d0/f2.bin d0/f4.bin d0/f6.bin d1/...
	var inD0 []int
	for i, fe := range f.fs {
		if strings.HasPrefix(fe.Path, "d0/") {
			inD0 = append(inD0, i)
		}
	}
	steps := []struct {
		name  string
		files []int
		do    func() error
	}{
		{"delete a file", []int{0}, func() error { return os.Remove(path(0)) }},
		{"replace a file", []int{2}, func() error {
			tmp := path(2) + ".new"
			if err := os.WriteFile(tmp, make([]byte, f.fs[2].Length), 0o644); err != nil {
				return err
			}
			return os.Rename(tmp, path(2))
		}},
		{"move a file away", []int{4}, func() error { return os.Rename(path(4), path(4)+".moved") }},
		{"move its directory away", inD0, func() error {
			d := filepath.Dir(path(0))
			if err := os.Rename(d, d+".moved"); err != nil {
				return err
			}
			return os.MkdirAll(d, 0o755) // and an empty one appears in its place
		}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var pieces []int
		for _, i := range st.files {
			pieces = append(pieces, piecesOf(f, i)...)
		}
		slices.Sort(pieces)
		pieces = slices.Compact(pieces)
		if err := s.MarkNotComplete(ctx, f.ih, pieces); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for _, p := range pieces {
			tt.Piece(p).UpdateCompletion()
		}
		for _, p := range pieces {
			waitPiece(t, tt, p, 20*time.Second, seeder)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for _, i := range st.files {
			if _, err := os.Stat(path(i)); err != nil {
				t.Fatalf("%s: pieces fetched again but file %s: %v", st.name, f.fs[i].Path, err)
			}
		}
		sameFiles(t, f, dl)
		if n := checkCatalogAgainstDisk(t, db, f, dl); n != f.info.NumPieces() {
			t.Fatalf("%s: catalog records %d of %d pieces complete", st.name, n, f.info.NumPieces())
		}
	}
}

// TestPieceWhoseFileChangedBeforeItsCommitIsNotRecordedComplete: the
// engine wrote and hashed a piece, then (before the group commit) its file
// was deleted, moved away, or replaced and written again through a fresh
// descriptor. The data the engine hashed is not at the path: the piece
// must not be recorded complete.
func TestPieceWhoseFileChangedBeforeItsCommitIsNotRecordedComplete(t *testing.T) {
	cases := map[string]func(p string) error{
		"deleted":    os.Remove,
		"moved away": func(p string) error { return os.Rename(p, p+".moved") },
		"replaced": func(p string) error {
			if err := os.WriteFile(p+".new", make([]byte, testPieceLen), 0o644); err != nil {
				return err
			}
			return os.Rename(p+".new", p)
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			db := pgtest.New(t)
			ctx := context.Background()
			dl := filepath.Join(t.TempDir(), "dl")
			f := makeTorrent(t, db, "changed", []int{3 * testPieceLen}, dl)
			s := newStore(t, db)
			if err := s.Register(ctx, f.cat, f.fs); err != nil {
				t.Fatal(err)
			}
			ti, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih)
			if err != nil {
				t.Fatal(err)
			}
			orig, err := os.ReadFile(filepath.Join(f.src, f.info.Name, filepath.FromSlash(f.fs[0].Path)))
			if err != nil {
				t.Fatal(err)
			}
			write := func(i int) {
				t.Helper()
				p := ti.PieceWithHash(f.info.Piece(i), nullHash())
				if _, err := p.WriteAt(orig[i*testPieceLen:(i+1)*testPieceLen], 0); err != nil {
					t.Fatal(err)
				}
			}
			write(0)
			if err := change(filepath.Join(dl, filepath.FromSlash(f.fs[0].Path))); err != nil {
				t.Fatal(err)
			}
			write(1) // through a descriptor of the file now at the path, if any
			for i := range 2 {
				if err := ti.PieceWithHash(f.info.Piece(i), nullHash()).MarkComplete(); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if ps := loadPieces(t, db, f); ps.Known.Get(0) && ps.Complete.Get(0) {
				t.Fatal("piece 0 recorded complete although its file changed after it was written")
			}
			checkCatalogAgainstDisk(t, db, f, dl)
		})
	}
}

// TestPieceHandedBackDuringACommitThatLosesItStaysNotComplete: a group
// commit whose sync of a piece's file fails (the file was moved away)
// gives the piece up (it reads back unknown). When the scrub hands the
// same piece back (MarkNotComplete) while that commit is in flight, the
// piece must read back "not complete": the engine fetches only pieces
// known not complete and hashes unknown ones only when a torrent is
// added, so an unknown one was never repaired (seen as pieces stuck "?"
// when a directory was moved away right after its pieces were fetched).
func TestPieceHandedBackDuringACommitThatLosesItStaysNotComplete(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, "lost", []int{testPieceLen, testPieceLen}, dl) // d0/f0.bin: piece 0, d1/f1.bin: piece 1
	s := newStore(t, db)
	if err := s.Register(ctx, f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		b, err := os.ReadFile(filepath.Join(f.src, f.info.Name, filepath.FromSlash(f.fs[i].Path)))
		if err != nil {
			t.Fatal(err)
		}
		p := ti.PieceWithHash(f.info.Piece(i), nullHash())
		if _, err := p.WriteAt(b, 0); err != nil {
			t.Fatal(err)
		}
		if err := p.MarkComplete(); err != nil {
			t.Fatal(err)
		}
	}
	f0 := filepath.Join(dl, filepath.FromSlash(f.fs[0].Path))
	if err := os.Rename(f0, f0+".moved"); err != nil {
		t.Fatal(err)
	}
	// The commit waits in the sync of f1 (which succeeds) until piece 0 is
	// handed back; its sync of f0 fails.
	synced, release := make(chan struct{}), make(chan struct{})
	s.onSync = func(path string) {
		if strings.HasSuffix(path, "f1.bin") {
			close(synced)
			<-release
		}
	}
	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(ctx) }()
	select {
	case <-synced:
	case <-time.After(20 * time.Second):
		t.Fatal("the commit did not sync f1 in 20 s")
	}
	marked := make(chan error, 1)
	go func() { marked <- s.MarkNotComplete(ctx, f.ih, []int{0}) }()
	piece0 := ti.PieceWithHash(f.info.Piece(0), nullHash())
	testutil.Eventually(t, 10*time.Second, "piece 0 handed back", func() bool {
		c := piece0.Completion()
		return c.Ok && !c.Complete
	})
	close(release)
	for name, ch := range map[string]chan error{"commit": flushed, "MarkNotComplete": marked} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s did not return in 20 s", name)
		}
	}
	if c := piece0.Completion(); !c.Ok || c.Complete {
		t.Fatalf("piece 0 handed back during a commit that lost it reads back %+v, want known not complete", c)
	}
	if ps := loadPieces(t, db, f); !ps.Known.Get(0) || ps.Complete.Get(0) {
		t.Fatal("piece 0 not recorded not complete in the catalog")
	}
}
