package datadir

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemoveFilesDeletesExactlyTheFilesAndNoLink: the torrent's regular
// files go, then its directories that became empty and the data directory
// it owns; links in place of its files or directories (inside or out of
// the data directory) stay, and so do their targets and strangers' files.
func TestRemoveFilesDeletesExactlyTheFilesAndNoLink(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir, outside := filepath.Join(base, "data"), filepath.Join(base, "outside")
	tree(t, outside, []string{"secret.bin", "x.bin"}, nil)
	tree(t, dir, []string{"top.bin", "a/b/deep.bin", "a/mine.bin", "keep/stranger.txt", "keep/mine.bin", "real/r.bin"}, map[string]string{
		"in.bin":  "real/r.bin",                         // a torrent file's path holds a link inside
		"out.bin": filepath.Join(outside, "secret.bin"), // ... and a link out
		"linked":  "real",                               // a torrent directory is a link inside
		"gone":    outside,                              // ... and a link out
	})
	files := []string{"top.bin", "a/b/deep.bin", "a/mine.bin", "keep/mine.bin", "in.bin", "out.bin", "linked/r.bin", "gone/x.bin", "never/written.bin"}
	res, err := RemoveFiles(dir, files, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 4 || res.Dirs != 2 || len(res.Kept) != 4 {
		t.Errorf("removed %d files and %d directories, kept %q; want 4, 2 (a/b, a) and 4 kept", res.Files, res.Dirs, res.Kept)
	}
	for _, why := range []string{"in.bin: symbolic link", "out.bin: symbolic link", "linked is not a directory (symlinks are not followed)", "gone is not a directory (symlinks are not followed)"} {
		if !strings.Contains(strings.Join(res.Kept, "\n"), why) {
			t.Errorf("kept %q: no %q", res.Kept, why)
		}
	}
	want := map[string]string{
		"outside": "dir", "outside/secret.bin": "file:secret.bin", "outside/x.bin": "file:x.bin",
		"data": "dir", "data/keep": "dir", "data/keep/stranger.txt": "file:keep/stranger.txt",
		"data/real": "dir", "data/real/r.bin": "file:real/r.bin",
		"data/in.bin": "link:real/r.bin", "data/out.bin": "link:" + filepath.Join(outside, "secret.bin"),
		"data/linked": "link:real", "data/gone": "link:" + outside,
	}
	if got := listing(t, base); !maps.Equal(got, want) {
		t.Errorf("left\n%v\nwant\n%v", got, want)
	}
	if res, err := RemoveFiles(filepath.Join(base, "nothing"), files, true); err != nil || res.Files+res.Dirs != 0 {
		t.Errorf("a missing data directory: %+v, %v", res, err)
	}
}

// TestRemoveFilesWhileADirectoryIsReplacedByALink: the torrent's directory
// d is moved away and a link to another directory holding files of the
// same names is put in its place between the checks of d/f1 and its
// unlink. The unlink goes to the file checked (now in the moved
// directory), never through the link; the next file, d/f2, is reached
// through the link only, so it is kept; the link and everything it points
// at stay.
func TestRemoveFilesWhileADirectoryIsReplacedByALink(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "data"), filepath.Join(base, "outside")
	tree(t, outside, []string{"f1", "f2"}, nil)
	tree(t, dir, []string{"d/f1", "d/f2"}, nil)
	swapped := 0
	beforeUnlink = func(rel string) {
		if rel != "d/f1" {
			return
		}
		swapped++
		if err := os.Rename(filepath.Join(dir, "d"), filepath.Join(dir, "moved")); err != nil {
			t.Error(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "d")); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { beforeUnlink = nil })
	res, err := RemoveFiles(dir, []string{"d/f1", "d/f2"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if swapped != 1 || res.Files != 1 || len(res.Kept) != 1 || !strings.Contains(res.Kept[0], "d is not a directory (symlinks are not followed)") {
		t.Errorf("swapped %d times; removed %d files, kept %q; want 1, 1 and d/f2 kept", swapped, res.Files, res.Kept)
	}
	want := map[string]string{
		"outside": "dir", "outside/f1": "file:f1", "outside/f2": "file:f2",
		"data": "dir", "data/d": "link:" + outside, "data/moved": "dir", "data/moved/f2": "file:d/f2",
	}
	if got := listing(t, base); !maps.Equal(got, want) {
		t.Errorf("left\n%v\nwant\n%v", got, want)
	}
}
