package datadir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
)

func TestPresenceTellsAnEmptyMountPointFromData(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "ds")
	files := []string{"a/one.bin", "two.bin"}
	check := func(step string, want catalog.AvailabilityCause) {
		t.Helper()
		if got, why := Presence(dir, files); got != want {
			t.Fatalf("%s: cause %q (%s), want %q", step, got, why, want)
		}
	}
	check("no directory", catalog.CauseDataMissing)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	check("empty directory (an unmounted disk's mount point)", catalog.CauseDataMissing)
	if err := os.WriteFile(filepath.Join(dir, "two.bin"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	check("one file there", catalog.CauseNone)
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := Presence(filepath.Join(root, "file"), files); got != catalog.CauseDataUnreadable {
		t.Fatalf("a file as data directory: cause %q, want data_unreadable", got)
	}
}

// TestPresencesOpensEachDirectoryOnce: many torrents sharing a data
// directory (single-file torrents of a collection) are looked at with one
// open of it, and each gets what Presence tells it.
func TestPresencesOpensEachDirectoryOnce(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	shared, gone, other := filepath.Join(root, "shared"), filepath.Join(root, "gone"), filepath.Join(root, "other")
	for _, d := range []string{shared, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	type look struct {
		dir   string
		files []string
	}
	var looks []look
	for i := range 50 {
		name := filepath.Join(shared, "t"+string(rune('a'+i%26))+string(rune('a'+i/26))+".bin")
		if i%2 == 0 {
			if err := os.WriteFile(name, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		looks = append(looks, look{shared, []string{filepath.Base(name)}})
	}
	looks = append(looks, look{gone, []string{"x"}}, look{other, nil}, look{other, []string{"y"}},
		look{filepath.Join(root, "file"), []string{"z"}}, look{gone, []string{"x2"}})
	var p Presences
	defer p.Close()
	for _, l := range looks {
		want, wantWhy := Presence(l.dir, l.files)
		if got, why := p.Presence(l.dir, l.files); got != want || why != wantWhy {
			t.Fatalf("%s %v: %q (%s), Presence tells %q (%s)", l.dir, l.files, got, why, want, wantWhy)
		}
	}
	if p.Opens != 4 {
		t.Fatalf("%d directories looked at for 4 distinct ones", p.Opens)
	}
}
