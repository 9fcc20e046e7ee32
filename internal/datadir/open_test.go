package datadir

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// tree builds dir/<rel> files with their own names as content, and
// symlinks given as rel -> target.
func tree(t *testing.T, dir string, files []string, links map[string]string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for rel, target := range links {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
}

// listing is every path below dir with "file:content", "dir" or
// "link:target".
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link:" + target
		case fi.IsDir():
			out[rel] = "dir"
		default:
			b, _ := os.ReadFile(p)
			out[rel] = "file:" + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenFileRefusesEveryLinkBelowTheDataDir: a link in place of a file
// or a directory is refused in every mode, whether it points inside the
// data directory or out of it; nothing is created or changed through
// one. The data directory's own path may be a link (a mount alias).
func TestOpenFileRefusesEveryLinkBelowTheDataDir(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir, outside := filepath.Join(base, "data"), filepath.Join(base, "outside")
	tree(t, outside, []string{"secret.bin", "sub/x.bin"}, nil)
	tree(t, dir, []string{"real.bin", "sub/x.bin"}, map[string]string{
		"in.bin":       "real.bin",                           // a file inside
		"abs-in.bin":   filepath.Join(dir, "real.bin"),       // the same, absolute
		"out.bin":      filepath.Join(outside, "secret.bin"), // a file outside
		"insub":        "sub",                                // a directory inside
		"outsub":       outside,                              // a directory outside
		"deep/up.bin":  "../real.bin",                        // inside, through ..
		"deep/new.bin": "../not-yet.bin",                     // dangling, inside
	})
	before := listing(t, base)
	for _, rel := range []string{"in.bin", "abs-in.bin", "out.bin", "insub/x.bin", "outsub/x.bin", "outsub/new.bin", "deep/up.bin", "deep/new.bin"} {
		for _, m := range []Mode{Read, ReadWrite, Create} {
			f, _, err := OpenFile(dir, rel, m)
			if err == nil {
				f.Close()
				t.Errorf("mode %d: %s opened through a link", m, rel)
				continue
			}
			if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), "refusing to follow it") {
				t.Errorf("mode %d: %s: %v, want ErrSymlink", m, rel, err)
			}
		}
	}
	if after := listing(t, base); !maps.Equal(before, after) {
		t.Errorf("the tree changed:\nbefore %v\nafter  %v", before, after)
	}
	alias := filepath.Join(base, "alias")
	if err := os.Symlink(dir, alias); err != nil {
		t.Fatal(err)
	}
	for _, m := range []Mode{Read, ReadWrite, Create} {
		f, _, err := OpenFile(alias, "sub/x.bin", m)
		if err != nil {
			t.Fatalf("mode %d: a plain file through an aliased data dir: %v", m, err)
		}
		f.Close()
	}
}

// TestOpenFileRefusesWhatIsNotARegularFileWithoutBlocking: a directory or
// a named pipe in place of a file is refused, saying what it is, and the
// pipe does not block the open.
func TestOpenFileRefusesWhatIsNotARegularFileWithoutBlocking(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	for rel, what := range map[string]string{"adir": "is a directory", "pipe": "is a named pipe"} {
		for _, m := range []Mode{Read, ReadWrite, Create} {
			_, _, err := OpenFile(dir, rel, m)
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), what) {
				t.Errorf("mode %d: %s: %v, want %q and ErrNotRegular", m, rel, err, what)
			}
		}
	}
}

// TestCreateMakesTheDirectoriesAndNamesTheOnesToSync: Create makes the
// data directory, its parents and the file's directories, and reports
// each directory whose entries changed once; a second open reports none.
func TestCreateMakesTheDirectoriesAndNamesTheOnesToSync(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "new", "data")
	f, created, err := OpenFile(dir, "a/b/c.bin", Create)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := []string{filepath.Join(base, "new"), base, dir, filepath.Join(dir, "a"), filepath.Join(dir, "a", "b")}
	slices.Sort(created)
	slices.Sort(want)
	if !slices.Equal(created, want) {
		t.Errorf("created %v, want %v", created, want)
	}
	f, created, err = OpenFile(dir, "a/b/c.bin", Create)
	if err != nil || len(created) != 0 {
		t.Fatalf("second open: created %v, %v", created, err)
	}
	f.Close()
	if _, _, err := OpenFile(dir, "a/missing.bin", ReadWrite); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file without Create: %v", err)
	}
}

func TestSplitPathRefusesPathsThatCouldLeaveTheDataDir(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", "", "a\\b", "a\x00b"} {
		if _, err := SplitPath(p); err == nil {
			t.Errorf("%q accepted", p)
		}
		if _, _, err := OpenFile(t.TempDir(), p, Create); err == nil {
			t.Errorf("%q opened", p)
		}
	}
	if parts, err := SplitPath("a/b.c/d"); err != nil || !slices.Equal(parts, []string{"a", "b.c", "d"}) {
		t.Errorf("a/b.c/d: %v %v", parts, err)
	}
}

// TestSameFileTellsAFileMovedReplacedOrLinkedAway: a descriptor is the
// file at its path until the file is moved away, replaced, or a link is
// put in its path (even one leading back to it).
func TestSameFileTellsAFileMovedReplacedOrLinkedAway(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree(t, dir, []string{"d/f.bin"}, nil)
	f, _, err := OpenFile(dir, "d/f.bin", ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	check := func(step string, want bool, wantErr error) {
		t.Helper()
		same, err := SameFile(dir, "d/f.bin", f)
		if same != want || (wantErr == nil) != (err == nil) || (wantErr != nil && !errors.Is(err, wantErr)) {
			t.Fatalf("%s: same %v, %v; want %v, %v", step, same, err, want, wantErr)
		}
	}
	do := func(fn func() error) {
		t.Helper()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
	}
	check("in place", true, nil)
	do(func() error { return os.Rename(filepath.Join(dir, "d"), filepath.Join(dir, "e")) })
	do(func() error { return os.Symlink("e", filepath.Join(dir, "d")) })
	check("its directory replaced by a link to it", false, ErrSymlink)
	do(func() error { return os.Remove(filepath.Join(dir, "d")) })
	check("its directory moved away", false, os.ErrNotExist)
	do(func() error { return os.Mkdir(filepath.Join(dir, "d"), 0o755) })
	do(func() error { return os.Symlink("../e/f.bin", filepath.Join(dir, "d", "f.bin")) })
	check("a link to it in its place", false, ErrSymlink)
	do(func() error { return os.Remove(filepath.Join(dir, "d", "f.bin")) })
	do(func() error { return os.WriteFile(filepath.Join(dir, "d", "f.bin"), []byte("new"), 0o644) })
	check("replaced by another file", false, nil)
}

// TestCreateInsideNeverMakesTheDataDirectory: CreateInside makes missing
// directories and the file below an existing data directory, and refuses
// a missing data directory with ErrDataDirMissing, making nothing.
func TestCreateInsideNeverMakesTheDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mnt", "data")
	if _, _, err := OpenFile(dir, "a/b.bin", CreateInside); !errors.Is(err, ErrDataDirMissing) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("CreateInside with the data directory missing: %v, want ErrDataDirMissing", err)
	}
	if _, err := os.Lstat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Fatalf("CreateInside made the data directory's parent (lstat: %v)", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, created, err := OpenFile(dir, "a/b.bin", CreateInside)
	if err != nil {
		t.Fatalf("CreateInside below an existing data directory: %v", err)
	}
	f.Close()
	if len(created) != 2 || created[0] != dir || created[1] != filepath.Join(dir, "a") {
		t.Fatalf("created %v, want %s and its new subdirectory", created, dir)
	}
}
