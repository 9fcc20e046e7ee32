// Package seedcorpus gives tests the torrents of torrentfile's fuzz seed
// corpus (testdata/fuzz/FuzzParse: real output of libtorrent, mktorrent
// and archivd, and malformed ones), so that other packages test against
// the same files instead of copies.
package seedcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Dir is the corpus directory.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "fuzz", "FuzzParse")
}

// Read returns the bytes of one seed file (Go fuzz corpus format, one
// []byte value).
func Read(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(string(b), "\n", 3)
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "[]byte(") {
		return nil, fmt.Errorf("%s: not a []byte fuzz seed", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return []byte(s), nil
}

// File writes the seed named name to a .torrent file in a temporary
// directory of t and returns its path.
func File(t testing.TB, name string) string {
	t.Helper()
	raw, err := Read(filepath.Join(Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name+".torrent")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
