package importer

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/torrentfile"
	"github.com/archivd/archivd/internal/torrentfile/seedcorpus"
)

// hybridOf makes libtorrent's default torrent (a v1+v2 hybrid) of files
// with the given sizes under a fresh directory and returns it parsed.
func hybridOf(t *testing.T, sizes map[string]int) *torrentfile.Torrent {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import libtorrent").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-libtorrent not available (CI): %v", err)
		}
		t.Skipf("python3-libtorrent not available: %v", err)
	}
	parent := t.TempDir()
	root := filepath.Join(parent, "hyb")
	for name, n := range sizes {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(parent, "hyb.torrent")
	arg, _ := json.Marshal(map[string]any{"path": root, "parent": parent, "out": out})
	script := `import json, sys, libtorrent as lt
a = json.loads(sys.argv[1])
fs = lt.file_storage(); lt.add_files(fs, a["path"])
ct = lt.create_torrent(fs, 32768)
lt.set_piece_hashes(ct, a["parent"])
open(a["out"], "wb").write(lt.bencode(ct.generate()))
`
	if b, err := exec.Command("/usr/bin/python3", "-c", script, string(arg)).CombinedOutput(); err != nil {
		t.Fatalf("libtorrent create: %v: %s", err, b)
	}
	tf, err := torrentfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(tf.InfoHashV2) == 0 {
		t.Fatal("libtorrent did not make a hybrid")
	}
	return tf
}

// TestWarningsNameHybridFilesEndingMidBlock: only a hybrid with a file
// ending inside a 16 KiB block before the last file gets the warning, and
// it names that file; block-aligned hybrids and v1 torrents get none.
func TestWarningsNameHybridFilesEndingMidBlock(t *testing.T) {
	mid := hybridOf(t, map[string]int{"a/one.bin": 100_000, "b.bin": 32 << 10})
	w := Warnings(NewTorrentOf(mid, "c", t.TempDir()))
	if len(w) != 1 || !strings.Contains(w[0], "a/one.bin") || !strings.Contains(w[0], "16 KiB block") || strings.Contains(w[0], "\n") {
		t.Fatalf("hybrid with a mid-block file end: warnings %q", w)
	}
	aligned := hybridOf(t, map[string]int{"a/one.bin": 48 << 10, "b.bin": 5_000})
	if w := Warnings(NewTorrentOf(aligned, "c", t.TempDir())); len(w) != 0 {
		t.Fatalf("hybrid whose only mid-block end is the last file: warnings %q", w)
	}
	v1, err := torrentfile.Load(seedcorpus.File(t, "real-lt-v1only"))
	if err != nil {
		t.Fatal(err)
	}
	if w := Warnings(NewTorrentOf(v1, "c", t.TempDir())); len(w) != 0 {
		t.Fatalf("v1 torrent: warnings %q", w)
	}
}
