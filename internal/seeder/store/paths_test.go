package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestRegisterRefusesPathsLeavingDataDir: catalog paths that could
// escape the data directory or alias another file are refused.
func TestRegisterRefusesPathsLeavingDataDir(t *testing.T) {
	db := pgtest.New(t)
	f := makeTorrent(t, db, "escape", []int{20_000, 20_000}, filepath.Join(t.TempDir(), "d"))
	s := newStore(t, db)
	for _, p := range []string{"../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", ""} {
		fs := append([]catalog.File(nil), f.fs...)
		fs[1].Path = p
		err := s.Register(context.Background(), f.cat, fs)
		if err == nil || !strings.Contains(err.Error(), "path") {
			t.Errorf("path %q: got %v, want a path error", p, err)
		}
	}
	fs := append([]catalog.File(nil), f.fs...)
	fs[1].Path = fs[0].Path
	if err := s.Register(context.Background(), f.cat, fs); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("aliased paths: got %v, want refused", err)
	}
	bad := f.cat
	bad.DataDir = "relative/dir"
	if err := s.Register(context.Background(), bad, f.fs); err == nil {
		t.Error("relative data dir accepted")
	}
}

// TestSymlinkInsideDataDirRefused: a symlinked directory or file inside
// the data directory is neither written through nor read through.
func TestSymlinkInsideDataDirRefused(t *testing.T) {
	db := pgtest.New(t)
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, "links", []int{20_000, 20_000, 20_000}, dl) // files d0/f0, d0/f2, d1/f1
	outside := t.TempDir()
	if err := os.MkdirAll(dl, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dl, "d1")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dl, "d0"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(outside, "target.bin")
	if err := os.WriteFile(target, make([]byte, 20_000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dl, "d0", "f2.bin")); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(context.Background(), &f.info, f.ih)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 100)
	for _, fe := range f.fs {
		if fe.Path == "d0/f0.bin" {
			continue // a plain file: must work
		}
		off := fe.Offset + 100
		pi := int(off / f.info.PieceLength)
		p := ti.PieceWithHash(f.info.Piece(pi), nullHash())
		poff := off - f.info.Piece(pi).Offset()
		if _, err := p.WriteAt(data, poff); !errors.Is(err, datadir.ErrSymlink) {
			t.Errorf("write %s through a symlink: got %v, want ErrSymlink", fe.Path, err)
		}
		if _, err := p.ReadAt(data, poff); !errors.Is(err, datadir.ErrSymlink) {
			t.Errorf("read %s through a symlink: got %v, want ErrSymlink", fe.Path, err)
		}
	}
	if _, err := ti.PieceWithHash(f.info.Piece(0), nullHash()).WriteAt(data, 0); err != nil {
		t.Errorf("write to a plain file: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Errorf("something was created outside the data dir: %v", ents)
	}
	if b, _ := os.ReadFile(target); string(b) != string(make([]byte, 20_000)) {
		t.Error("the symlink target was modified")
	}
}

// TestMissingOrShortFileReadsAsError: unwritten data is an error, never
// zeros that could be taken for data.
func TestMissingOrShortFileReadsAsError(t *testing.T) {
	db := pgtest.New(t)
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, "short", []int{40_000}, dl)
	s := newStore(t, db)
	if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(context.Background(), &f.info, f.ih)
	if err != nil {
		t.Fatal(err)
	}
	p := ti.PieceWithHash(f.info.Piece(1), nullHash())
	buf := make([]byte, 100)
	if n, err := p.ReadAt(buf, 0); err == nil || n != 0 {
		t.Fatalf("read of a missing file: n=%d err=%v, want 0 and an error", n, err)
	}
	path := filepath.Join(dl, filepath.FromSlash(f.fs[0].Path))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, 16<<10+50), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := p.ReadAt(buf, 0); !errors.Is(err, io.ErrUnexpectedEOF) || n != 50 {
		t.Fatalf("read of a short file: n=%d err=%v, want 50 and ErrUnexpectedEOF", n, err)
	}
	if _, err := p.(io.WriterTo).WriteTo(io.Discard); err == nil {
		t.Fatal("hashing a short piece succeeded")
	}
}
