package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRmDeleteDataKeepsALinkToAFileInside: after the torrent was added,
// its top.bin is replaced by a link to a file inside the data directory.
// rm --delete-data deletes the torrent's other files, keeps the link and
// its target (the data directory with them), and names the link.
func TestRmDeleteDataKeepsALinkToAFileInside(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	dir := e.addTree(t, "")
	if err := os.Rename(filepath.Join(dir, "top.bin"), filepath.Join(dir, "kept.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("kept.bin", filepath.Join(dir, "top.bin")); err != nil {
		t.Fatal(err)
	}
	e.stdout.Reset()
	mustOK(t, runRm(ctx, e.a, rmOptions{Refs: []string{"dataset"}, DeleteData: true}))
	got := snapshot(t, e.root)
	for p, want := range map[string]string{
		"src/dataset/top.bin": "link:kept.bin", "src/dataset/kept.bin": "file:" + strings.Repeat("t", 40000),
	} {
		if got[p] != want {
			t.Errorf("%s = %.20q, want %.20q", p, got[p], want)
		}
	}
	for _, gone := range []string{"src/dataset/a/b/deep.txt", "src/dataset/a/empty", "src/dataset/a"} {
		if _, ok := got[gone]; ok {
			t.Errorf("%s not deleted", gone)
		}
	}
	if !strings.Contains(e.stdout.String(), "deleted 2 files and 2 empty directories") {
		t.Errorf("rm output: %s", e.stdout)
	}
	if !strings.Contains(e.stderr.String(), "top.bin: symbolic link inside the data directory (not followed, not deleted)") {
		t.Errorf("rm did not name the kept link: %q", e.stderr)
	}
}
