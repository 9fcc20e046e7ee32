package e2e

import (
	"crypto/sha1"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/anacrolix/torrent/metainfo"
)

// The lifecycle test's data: a small tree adopted by the seeding node, its
// piece layout read from the .torrent, and the test's own hashing of a
// copy on disk (it trusts no archivd output for what is good).

// lifecycleFiles: sizes chosen so that a deleted file stays below the
// mass-failure share (0.2 of ~60 pieces) and a deleted directory or the
// largest file goes above it.
var lifecycleFiles = map[string]int{
	"a.bin": 100_000, "empty": 0, "t.bin": 33_333,
	"d0/x.bin": 150_000, "d0/y.bin": 150_001, "d0/z.bin": 50_000,
	"d1/p.bin": 260_000, "d1/sub/q.bin": 120_000,
}

// lifecycleDirs are the directories a step may delete and recreate.
var lifecycleDirs = []string{"d0", "d1", "d1/sub"}

func writeLifecycleTree(t testing.TB, dir string, rng *rand.Rand) {
	t.Helper()
	for name, size := range lifecycleFiles {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// layout is a v1 torrent's pieces over its files.
type layout struct {
	pieceLen int64
	total    int64
	hashes   [][20]byte
	files    []span // torrent order
}

// span is a file of the torrent: its path relative to the data directory
// and its place in the torrent's byte stream.
type span struct {
	path      string
	off, size int64
}

func readLayout(t testing.TB, tfile string) layout {
	t.Helper()
	mi, err := metainfo.LoadFromFile(tfile)
	if err != nil {
		t.Fatal(err)
	}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		t.Fatal(err)
	}
	l := layout{pieceLen: info.PieceLength}
	for _, f := range info.UpvertedFiles() {
		l.files = append(l.files, span{path: filepath.Join(f.Path...), off: l.total, size: f.Length})
		l.total += f.Length
	}
	for i := 0; i < info.NumPieces(); i++ {
		var h [20]byte
		copy(h[:], info.Pieces[20*i:])
		l.hashes = append(l.hashes, h)
	}
	return l
}

func (l layout) pieces() int { return len(l.hashes) }

// piecesOf returns the pieces holding bytes [off, off+n) of the stream.
func (l layout) piecesOf(off, n int64) []int {
	if n <= 0 {
		return nil
	}
	var ps []int
	for p := off / l.pieceLen; p <= (off+n-1)/l.pieceLen; p++ {
		ps = append(ps, int(p))
	}
	return ps
}

// pieceRange is the stream range of piece p.
func (l layout) pieceRange(p int) (off, n int64) {
	off = int64(p) * l.pieceLen
	return off, min(l.pieceLen, l.total-off)
}

// bad hashes the copy under dir and returns the pieces that fail: bytes
// missing (file gone or short) or a hash mismatch.
func (l layout) bad(t testing.TB, dir string) map[int]bool {
	t.Helper()
	stream := make([]byte, l.total)
	missing := map[int]bool{}
	for _, f := range l.files {
		b, err := os.ReadFile(filepath.Join(dir, f.path))
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("hash %s: %v", f.path, err)
		}
		copy(stream[f.off:f.off+f.size], b)
		if int64(len(b)) < f.size {
			for _, p := range l.piecesOf(f.off+int64(len(b)), f.size-int64(len(b))) {
				missing[p] = true
			}
		}
	}
	bad := map[int]bool{}
	for p := range l.hashes {
		off, n := l.pieceRange(p)
		if missing[p] || sha1.Sum(stream[off:off+n]) != l.hashes[p] {
			bad[p] = true
		}
	}
	return bad
}

// restorePiece writes piece p's bytes from the reference tree ref into
// dir (a hand fix of flipped bytes) when every file of the piece is there
// at its full size; it reports whether it did.
func (l layout) restorePiece(t testing.TB, ref, dir string, p int) bool {
	t.Helper()
	off, n := l.pieceRange(p)
	var parts []span // the piece's part of each file: off within the file, size
	for _, f := range l.files {
		lo, hi := max(off, f.off), min(off+n, f.off+f.size)
		if lo >= hi {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, f.path)); err != nil || fi.Size() != f.size {
			return false
		}
		parts = append(parts, span{path: f.path, off: lo - f.off, size: hi - lo})
	}
	for _, part := range parts {
		want, err := os.ReadFile(filepath.Join(ref, part.path))
		if err != nil {
			t.Fatal(err)
		}
		fh, err := os.OpenFile(filepath.Join(dir, part.path), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = fh.WriteAt(want[part.off:part.off+part.size], part.off)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return true
}

func sortedKeys(m map[int]bool) []int {
	ks := make([]int, 0, len(m))
	for k, v := range m {
		if v {
			ks = append(ks, k)
		}
	}
	sort.Ints(ks)
	return ks
}

func sameSet(a, b map[int]bool) bool { return slices.Equal(sortedKeys(a), sortedKeys(b)) }
