package torrentfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFuzzSeedsClassified keeps the seed corpus honest: real-* and ok-*
// torrents (mktorrent, libtorrent v1/v2/hybrid, Create) must parse, bad-* and
// truncated-* must be refused.
func TestFuzzSeedsClassified(t *testing.T) {
	paths, err := filepath.Glob("testdata/fuzz/FuzzParse/*")
	if err != nil || len(paths) < 10 {
		t.Fatalf("seed corpus missing: %v %v", paths, err)
	}
	for _, p := range paths {
		raw := readSeed(t, p)
		name := filepath.Base(p)
		_, err := Parse(raw)
		good := strings.HasPrefix(name, "real-") || strings.HasPrefix(name, "ok-")
		if good && err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
		if !good && err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func readSeed(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 3)
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("%s: not a []byte fuzz seed", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}
