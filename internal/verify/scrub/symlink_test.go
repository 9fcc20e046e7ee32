package scrub

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestScrubDoesNotFollowLinksInsideTheDataDir: the scrubber keeps the
// store's symlink policy. A file reached through a link that stays inside
// the data directory holds the right bytes, and would verify good if
// followed, yet the store cannot serve it: it is an io_error naming the
// link, and so is every file below a linked directory.
func TestScrubDoesNotFollowLinksInsideTheDataDir(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 40_000, 40_000) // d/a.bin: pieces 0..2, d/b.bin: pieces 2..4
	move := func(from, to string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(tg.DataDir, to)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(tg.DataDir, from), filepath.Join(tg.DataDir, to)); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, at string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(tg.DataDir, at)); err != nil {
			t.Fatal(err)
		}
	}
	move("d/b.bin", "real/b.bin")
	link("../real/b.bin", "d/b.bin")
	s := scrubAll(t, tg, Options{})
	if got := badPieces(s, IOError); !slices.Equal(got, []int{2, 3, 4}) || len(s.Bad) != 3 {
		t.Fatalf("file linked inside the data dir: io_error pieces %v (all %+v), want 2..4", got, s.Bad)
	}
	if !strings.Contains(s.Bad[0].Detail, "symbolic link inside the data directory") {
		t.Errorf("detail %q does not name the link", s.Bad[0].Detail)
	}

	move("d", "realdir")
	link("realdir", "d")
	s = scrubAll(t, tg, Options{Map: true})
	if got := badPieces(s, IOError); len(got) != tg.NumPieces() || s.BytesHashed != 0 {
		t.Fatalf("directory linked inside the data dir: io_error pieces %v of %d, %d bytes hashed", got, tg.NumPieces(), s.BytesHashed)
	}
}
