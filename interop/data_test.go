package interop

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// fileSpec is one file of a test tree: a share of the total size plus an
// odd remainder, so that file sizes are not multiples of any piece length.
type fileSpec struct {
	path  string
	share int64 // parts of 16
	extra int64
}

// treeSpec: nested directories, a zero-byte file, odd sizes.
var treeSpec = []fileSpec{
	{"a/b/c/deep.bin", 5, 12345},
	{"a/b/mid.bin", 4, 7},
	{"a/empty.bin", 0, 0},
	{"top.bin", 6, 99991},
	{"z/last.txt", 1, 1},
}

// makeTree writes a tree named name under parent with about total bytes
// of seeded pseudo-random data and returns its root.
func makeTree(t *testing.T, parent, name string, total int64, seed uint64) string {
	t.Helper()
	root := filepath.Join(parent, name)
	rng := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'i', 'o'}))
	for _, f := range treeSpec {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		size := total*f.share/16 + f.extra
		writeRandom(t, p, size, rng)
	}
	return root
}

func writeRandom(t *testing.T, path string, size int64, rng *rand.Rand) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for size > 0 {
		n := min(size, int64(len(buf)))
		for i := 0; i < int(n); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < int(n); j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		size -= n
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// hashTree maps every regular file under root (slash path) to its sha256.
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatalf("hash tree %s: %v", root, err)
	}
	return out
}

// emptySHA256 is the sha256 of zero bytes.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// sameTree fails the test unless got has exactly the files of want with
// the same sha256. Every file of the spec must be there, the zero-byte one
// included.
func sameTree(t *testing.T, who string, want map[string]string, gotRoot string) {
	t.Helper()
	compareTree(t, who, want, gotRoot, false)
}

// sameTreeNoEmpty is sameTree for a client that does not create zero-byte
// files (transmission 3.00 leaves them out): a missing empty file is
// logged, everything else must match.
func sameTreeNoEmpty(t *testing.T, who string, want map[string]string, gotRoot string) {
	t.Helper()
	compareTree(t, who, want, gotRoot, true)
}

func compareTree(t *testing.T, who string, want map[string]string, gotRoot string, emptyMayMiss bool) {
	t.Helper()
	got := hashTree(t, gotRoot)
	var bad []string
	for p, h := range want {
		if _, ok := got[p]; !ok && emptyMayMiss && h == emptySHA256 {
			t.Logf("%s did not create the zero-byte file %s (known client behaviour)", who, p)
			continue
		}
		if got[p] != h {
			bad = append(bad, p+" (want "+short(h)+", got "+short(got[p])+")")
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			bad = append(bad, p+" (unexpected)")
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Fatalf("%s: data in %s differs from the source: %v", who, gotRoot, bad)
	}
	if len(want) < len(treeSpec)-1 {
		t.Fatalf("%s: source has %d files, spec %d", who, len(want), len(treeSpec))
	}
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "missing"
	}
	return h
}

// withoutEmpty drops zero-byte files from a tree's hashes: transmission-create
// leaves them out of the torrents it makes.
func withoutEmpty(want map[string]string) map[string]string {
	out := map[string]string{}
	for p, h := range want {
		if h != emptySHA256 {
			out[p] = h
		}
	}
	return out
}

// corruptAt flips bytes [off, off+n) of a file in place.
func corruptAt(t *testing.T, path string, off, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatalf("corrupt %s: read: %v", path, err)
	}
	for i := range b {
		b[i] ^= 0xA5
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatalf("corrupt %s: write: %v", path, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}
