package interop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// hybridPieceLen is small enough that every file of the tree but the last
// ends mid-piece (so the v1 half has pad files between all of them) and
// the tree spans over a hundred pieces.
const hybridPieceLen = 64 << 10

// TestHybridMultiFileWithLibtorrent: a multi-file hybrid torrent (BEP 52
// v2 plus v1 with BEP 47 pad files: libtorrent's default output) made by
// libtorrent over a tree with nested directories, odd sizes and a zero-byte
// file. (a) archivd, given the .torrent and the data, hashes it and seeds
// it to a libtorrent leecher, which ends bit-identical; (b) another archivd,
// given only the .torrent, downloads it from a libtorrent seeder
// bit-identically, stores no pad file, and `archivd verify --wait` (SHA-1
// and SHA-256 for a hybrid) finds nothing.
func TestHybridMultiFileWithLibtorrent(t *testing.T) {
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	seedDir := t.TempDir()
	src := makeHybridTree(t, seedDir, "hyb")
	want := hashTree(t, src)
	tor := filepath.Join(t.TempDir(), "hyb.torrent")
	ltCreateHybrid(t, ctx, src, tor, hybridPieceLen, tk.URL)
	tk.allow(t, tor)

	t.Run("archivd seeds to libtorrent", func(t *testing.T) {
		a := newArchivd(t, ctx, tk.URL)
		a.run("collection", "create", "--data-root", seedDir, "h")
		a.run("add", "-c", "h", tor)
		a.start()
		s := a.waitComplete("hyb", time.Minute)
		checkHybridLayout(t, s)
		dir := t.TempDir()
		p := lt(t, ctx, "libtorrent-download", map[string]any{"mode": "download", "torrent": tor, "save_path": dir,
			"port": freePort(t), "peers": []string{fmt.Sprintf("127.0.0.1:%d", a.port)}, "no_tracker": true})
		ltWaitDone(t, p, "download", time.Minute)
		sameTree(t, "libtorrent", want, filepath.Join(dir, "hyb"))
		sameTree(t, "archivd's source data", want, src)
		a.stop()
	})

	t.Run("archivd downloads from libtorrent", func(t *testing.T) {
		seeder := ltSeed(t, ctx, tor, seedDir, freePort(t))
		a := newArchivd(t, ctx, tk.URL)
		a.run("collection", "create", "dl")
		a.run("add", "-c", "dl", tor)
		a.start()
		s := a.waitComplete("hyb", time.Minute)
		sameTree(t, "archivd", want, s.DataDir) // no .pad directory or file
		a.run("verify", "--wait", "--timeout", "1m", "hyb")
		if after := a.show("hyb"); after.OpenFindings != 0 {
			t.Fatalf("verify of the downloaded hybrid: %d open findings", after.OpenFindings)
		}
		a.stop()
		if st, _ := ltLast(seeder); st.Uploaded < s.totalLength() {
			t.Fatalf("libtorrent uploaded %d bytes, want the whole torrent (%d)", st.Uploaded, s.totalLength())
		}
	})
}

// hybridSpec: nested directories, a zero-byte file, sizes that are not
// multiples of the piece length; all end on a 16 KiB block boundary (see
// TestHybridSeedingStallsWhereAFileEndsMidBlock for why).
var hybridSpec = []struct {
	path string
	size int64
}{
	{"a/b/c/deep.bin", 97 << 14},
	{"a/b/mid.bin", 33 << 14},
	{"a/empty.bin", 0},
	{"top.bin", 150 << 14},
	{"z/last.txt", 7 << 14},
}

// makeHybridTree writes hybridSpec under parent/name and returns its root.
func makeHybridTree(t *testing.T, parent, name string) string {
	t.Helper()
	root := filepath.Join(parent, name)
	rng := rand.New(rand.NewChaCha8([32]byte{'h', 'y', 'b'}))
	for _, f := range hybridSpec {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeRandom(t, p, f.size, rng)
	}
	return root
}

// checkHybridLayout makes sure the test exercises gaps: files after the
// first start on piece boundaries, beyond the end of the previous one.
func checkHybridLayout(t *testing.T, s show) {
	t.Helper()
	gaps := 0
	for i := 1; i < len(s.Files); i++ {
		prev, f := s.Files[i-1], s.Files[i]
		if f.Offset%s.PieceLength != 0 {
			t.Fatalf("file %s at %d: not piece-aligned in a hybrid", f.Path, f.Offset)
		}
		if f.Offset > prev.Offset+prev.Length {
			gaps++
		}
	}
	if gaps < 3 {
		t.Fatalf("hybrid layout has %d gaps between files, want at least 3: %+v", gaps, s.Files)
	}
}

// ltCreateHybrid makes a v1+v2 hybrid torrent of root with libtorrent.
func ltCreateHybrid(t *testing.T, ctx context.Context, root, out string, pieceLen int, tracker string) {
	t.Helper()
	p := lt(t, ctx, "libtorrent-create", map[string]any{"mode": "create", "path": root, "out": out,
		"piece_length": pieceLen, "tracker": tracker, "hybrid": true})
	ltWaitDone(t, p, "create", time.Minute)
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}
