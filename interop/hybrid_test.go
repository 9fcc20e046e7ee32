package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// hybridPieceLen: the trees' files end mid-piece, so the v1 half has pad
// files between them (checkHybridLayout makes sure).
const hybridPieceLen = 64 << 10

// TestHybridMultiFileWithLibtorrent: multi-file hybrid torrents (BEP 52
// v2 plus v1 with BEP 47 pad files: libtorrent's default output) made by
// libtorrent over trees with nested directories, sizes that are not
// multiples of the piece length and a zero-byte file. (a) archivd, given
// the .torrent and the data, hashes it and seeds it to a libtorrent
// leecher, which ends bit-identical (files end on 16 KiB blocks: see
// TestHybridSeedingStallsWhereAFileEndsMidBlock); (b) another archivd,
// given only the .torrent of a tree whose files end mid-block, downloads
// it from a libtorrent seeder bit-identically, stores no pad file, and
// `archivd verify --wait` (SHA-1 and SHA-256 for a hybrid) finds nothing.
func TestHybridMultiFileWithLibtorrent(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tk := startTracker(t, ctx)

	t.Run("archivd seeds to libtorrent", func(t *testing.T) {
		seedDir := t.TempDir()
		src := makeHybridTree(t, seedDir, "hyb")
		want := hashTree(t, src)
		tor := filepath.Join(t.TempDir(), "hyb.torrent")
		ltCreateHybrid(t, ctx, src, tor, hybridPieceLen, tk.URL)
		tk.allow(t, tor)
		a := newArchivd(t, ctx, tk.URL)
		a.run("collection", "create", "--data-root", seedDir, "h")
		a.run("add", "-c", "h", tor)
		a.start()
		s := a.waitComplete("hyb", time.Minute)
		checkHybridLayout(t, s)
		dir := t.TempDir()
		p := lt(t, ctx, "libtorrent-download", map[string]any{"mode": "download", "torrent": tor, "save_path": dir,
			"port": testutil.FreePort(t, "127.0.0.1"), "peers": []string{fmt.Sprintf("127.0.0.1:%d", a.port)}, "no_tracker": true})
		ltWaitDone(t, p, "download", time.Minute)
		sameTree(t, "libtorrent", want, filepath.Join(dir, "hyb"))
		sameTree(t, "archivd's source data", want, src)
		a.stop()
	})

	t.Run("archivd downloads from libtorrent", func(t *testing.T) {
		seedDir := t.TempDir()
		src := makeTree(t, seedDir, "hybodd", 8<<20, 11) // files end mid-block
		want := hashTree(t, src)
		tor := filepath.Join(t.TempDir(), "hybodd.torrent")
		ltCreateHybrid(t, ctx, src, tor, hybridPieceLen, tk.URL)
		tk.allow(t, tor)
		seeder := ltSeed(t, ctx, tor, seedDir, testutil.FreePort(t, "127.0.0.1"))
		a := newArchivd(t, ctx, tk.URL)
		a.run("collection", "create", "dl")
		a.run("add", "-c", "dl", tor)
		a.start()
		s := a.waitComplete("hybodd", time.Minute)
		checkHybridLayout(t, s)
		sameTree(t, "archivd", want, s.DataDir) // no .pad directory or file
		out := a.run("verify", "--wait", "--json", "--timeout", "1m", "hybodd")
		var rep struct {
			Run struct {
				State         string `json:"state"`
				PiecesChecked int    `json:"pieces_checked"`
				PiecesFailed  int    `json:"pieces_failed"`
			} `json:"run"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("verify --json: %v: %s", err, out)
		}
		run := rep.Run
		if run.PiecesChecked != s.PieceCount || run.PiecesFailed != 0 {
			t.Fatalf("verify of the downloaded hybrid: %+v, want all %d pieces checked, none failed", run, s.PieceCount)
		}
		if after := a.show("hybodd"); after.OpenFindings != 0 {
			t.Fatalf("verify of the downloaded hybrid: %d open findings", after.OpenFindings)
		}
		t.Logf("verify: %+v", run)
		a.stop()
		// libtorrent prints its totals periodically: its last line may
		// not count the last blocks yet (seen 10 blocks short once).
		waitFor(t, "libtorrent to report the whole torrent uploaded", 30*time.Second, func() (bool, string) {
			st, _ := ltLast(seeder)
			return st.Uploaded >= s.totalLength(), fmt.Sprintf("libtorrent uploaded %d bytes, want the whole torrent (%d)", st.Uploaded, s.totalLength())
		})
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

// ltEverConnected reports whether a libtorrent status line so far showed
// a peer connection.
func ltEverConnected(p *proc) bool {
	for _, line := range strings.Split(p.output(), "\n") {
		var st struct {
			Peers int `json:"peers"`
		}
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &st) == nil && st.Peers > 0 {
			return true
		}
	}
	return false
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

// TestHybridSeedingStallsWhereAFileEndsMidBlock pins down an engine limit
// (docs/INTEROP.md). When a file of a hybrid ends inside a 16 KiB block,
// libtorrent (like any v1 peer, which counts the padding into the piece)
// requests that whole block; anacrolix/torrent v1.61.0 sizes the piece by
// the v2 layout, which ends with the file, answers "chunk overflows piece"
// and drops the connection; libtorrent asks for that block again first
// on every new connection, so the download stalls. The tree: a.bin ends
// mid-block in piece 1, b.bin ends on a block boundary. If this test fails because libtorrent completes, the engine
// has learnt to serve padding: make hybridSpec end mid-block instead.
func TestHybridSeedingStallsWhereAFileEndsMidBlock(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	seedDir := t.TempDir()
	root := filepath.Join(seedDir, "mid")
	rng := rand.New(rand.NewChaCha8([32]byte{'m', 'i', 'd'}))
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRandom(t, filepath.Join(root, "a.bin"), 100_000, rng) // pieces 0-1, ends mid-block
	writeRandom(t, filepath.Join(root, "b.bin"), 5<<14, rng)   // pieces 2-3
	tor := filepath.Join(t.TempDir(), "mid.torrent")
	ltCreateHybrid(t, ctx, root, tor, hybridPieceLen, "")

	a := newArchivd(t, ctx)
	a.run("collection", "create", "--data-root", seedDir, "h")
	a.run("add", "-c", "h", tor)
	a.start()
	if s := a.waitComplete("mid", time.Minute); s.PieceCount != 4 {
		t.Fatalf("hybrid has %d pieces, want 4", s.PieceCount)
	}
	p := lt(t, ctx, "libtorrent-download", map[string]any{"mode": "download", "torrent": tor, "save_path": t.TempDir(),
		"port": testutil.FreePort(t, "127.0.0.1"), "peers": []string{fmt.Sprintf("127.0.0.1:%d", a.port)}, "no_tracker": true})
	waitFor(t, "libtorrent connected to archivd", 30*time.Second, func() (bool, string) {
		return ltEverConnected(p), tail([]byte(p.output()), 256)
	})
	// libtorrent sends its requests in one burst: the connection often
	// dies before any block is sent. Each redial (every 2 s) asks again.
	// Not a wait: the period (four redials) in which libtorrent would
	// complete if the engine served the blocks is what is under test.
	time.Sleep(8 * time.Second)
	if st, _ := ltLast(p); st.Done || st.Pieces == 4 {
		t.Fatalf("libtorrent completed (%+v): the engine now serves blocks that cross into padding; update docs/INTEROP.md and let hybridSpec end mid-block", st)
	} else {
		t.Logf("libtorrent stalled at %d of 4 pieces, %d bytes (as expected with anacrolix/torrent v1.61.0)", st.Pieces, st.Downloaded)
	}
	a.stop()
}
