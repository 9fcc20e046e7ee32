package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// TestStoreAndScrubAgreeOnLinksInsideTheDataDir: files reached through
// links that stay inside the data directory (a linked file, a linked
// directory) hold the right bytes. The store neither serves nor writes
// them, and the scrubber does not read them good: exactly the pieces the
// store cannot read are the scrubber's findings (it used to follow such
// links and find good what could not be served).
func TestStoreAndScrubAgreeOnLinksInsideTheDataDir(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, "agree", []int{40_000, 40_000, 40_000, 40_000}, dl) // d0/f0, d1/f1, d0/f2, d1/f3
	copyTree(t, f, dl)
	for _, mv := range [][2]string{{"d0/f2.bin", "real/f2.bin"}, {"d1", "realdir"}} {
		if err := os.MkdirAll(filepath.Join(dl, filepath.Dir(mv[1])), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dl, mv[0]), filepath.Join(dl, mv[1])); err != nil {
			t.Fatal(err)
		}
	}
	for at, target := range map[string]string{"d0/f2.bin": "../real/f2.bin", "d1": "realdir"} {
		if err := os.Symlink(target, filepath.Join(dl, at)); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.ReadFile(filepath.Join(dl, "realdir", "f1.bin"))

	s := newStore(t, db)
	if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(context.Background(), &f.info, f.ih)
	if err != nil {
		t.Fatal(err)
	}
	var unreadable []int
	for i := range f.info.NumPieces() {
		p := ti.PieceWithHash(f.info.Piece(i), nullHash())
		buf := make([]byte, f.info.Piece(i).Length())
		if _, err := p.ReadAt(buf, 0); err != nil {
			if !errors.Is(err, datadir.ErrSymlink) {
				t.Errorf("piece %d: %v, want ErrSymlink", i, err)
			}
			unreadable = append(unreadable, i)
		}
	}
	// A write of a piece in d1/f1.bin goes nowhere.
	off := f.fs[1].Offset
	p := ti.PieceWithHash(f.info.Piece(int(off/f.info.PieceLength)), nullHash())
	if _, err := p.WriteAt(make([]byte, 100), off%f.info.PieceLength); !errors.Is(err, datadir.ErrSymlink) {
		t.Errorf("write through a linked directory: %v, want ErrSymlink", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dl, "realdir", "f1.bin")); !bytes.Equal(before, after) {
		t.Error("the linked directory's file was written")
	}

	tg, err := scrub.FromTorrent(f.cat, f.fs)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := scrub.Scrub(context.Background(), tg, 0, tg.NumPieces(), scrub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var bad []int
	for _, r := range sum.Bad {
		if r.Kind != scrub.IOError {
			t.Errorf("scrub: piece %d is %s, want io_error", r.Piece, r.Kind)
		}
		bad = append(bad, r.Piece)
	}
	slices.Sort(bad)
	// d0/f0.bin alone (pieces 0 and 1 of 16 KiB pieces over 40,000 bytes)
	// is a plain file: both read it.
	if len(unreadable) == 0 || slices.Contains(unreadable, 0) || !slices.Equal(unreadable, bad) {
		t.Fatalf("the store cannot read pieces %v, the scrubber finds %v: they must be the same, without piece 0", unreadable, bad)
	}
}
