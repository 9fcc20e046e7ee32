package torrentfile

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/torrentfile/seedcorpus"
)

// TestFuzzSeedsClassified keeps the seed corpus honest: real-* and ok-*
// torrents (mktorrent, libtorrent v1/v2/hybrid, Create) must parse, bad-* and
// truncated-* must be refused.
func TestFuzzSeedsClassified(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/fuzz/FuzzParse/*")
	if err != nil || len(paths) < 10 {
		t.Fatalf("seed corpus missing: %v %v", paths, err)
	}
	for _, p := range paths {
		raw, err := seedcorpus.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		_, err = Parse(raw)
		good := strings.HasPrefix(name, "real-") || strings.HasPrefix(name, "ok-")
		if good && err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
		if !good && err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
