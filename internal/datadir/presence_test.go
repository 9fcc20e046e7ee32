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
