package torrentfile

import (
	"crypto/sha1"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// dict is a bencode dictionary for hand-built test torrents.
type dict = map[string]any

// piecesFor returns n fake 20-byte hashes.
func piecesFor(n int) string {
	return strings.Repeat(string(make([]byte, 20)), n)
}

// v1Info returns a valid single-file info dict (100 bytes, 64-byte pieces).
func v1Info() dict {
	return dict{"name": "file.bin", "piece length": 64, "pieces": piecesFor(2), "length": 100}
}

// multiInfo returns a valid multi-file info dict for the given files
// (each a path list and length), with piece length 64.
func multiInfo(files ...dict) dict {
	var total int64
	for _, f := range files {
		total += int64(f["length"].(int))
	}
	list := make([]any, len(files))
	for i, f := range files {
		list[i] = f
	}
	return dict{"name": "dir", "piece length": 64, "pieces": piecesFor(int((total + 63) / 64)), "files": list}
}

func file(length int, path ...string) dict {
	p := make([]any, len(path))
	for i, c := range path {
		p[i] = c
	}
	return dict{"length": length, "path": p}
}

func encodeTorrentDict(tb testing.TB, info dict) []byte {
	tb.Helper()
	raw, err := bencode.Marshal(dict{"announce": "http://127.0.0.1:1/announce", "info": info})
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

func sha1Of(b []byte) [20]byte { return sha1.Sum(b) }
