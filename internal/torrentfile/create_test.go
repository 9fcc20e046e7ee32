package torrentfile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// makeNestedTree writes a tree with nested dirs, a zero-length file, a hidden
// file and sizes that are not multiples of any piece length. It returns the
// expected torrent paths in torrent order with their lengths.
func makeNestedTree(t *testing.T, dir string) map[string]int {
	t.Helper()
	files := map[string]int{
		".hidden":           7,
		"a.txt":             1,
		"a/b/c.bin":         100_003,
		"a/b/empty":         0,
		"a/z.bin":           65_537,
		"top.bin":           300_001,
		"zz/deep/er/leaf.x": 12_345,
	}
	for p, n := range files {
		buf := make([]byte, n)
		fillPseudoRandom(buf, uint64(n+len(p)))
		writeFile(t, filepath.Join(dir, filepath.FromSlash(p)), buf)
	}
	return files
}

func TestCreateNestedTreeOrderOffsetsAndDeterminism(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	files := makeNestedTree(t, dir)
	var calls, last, lastTotal int64
	tor, err := Create(context.Background(), CreateOptions{Path: dir, PieceLength: 16 << 10, Workers: 3,
		Progress: func(h, total int64) {
			if h < last {
				t.Errorf("progress went backwards: %d after %d", h, last)
			}
			calls, last, lastTotal = calls+1, h, total
		}})
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by '/'-joined path: "a.txt" < "a/b/..." because '.' < '/'.
	order := []string{".hidden", "a.txt", "a/b/c.bin", "a/b/empty", "a/z.bin", "top.bin", "zz/deep/er/leaf.x"}
	var off int64
	for i, p := range order {
		want := File{Index: i, Path: p, Length: int64(files[p]), Offset: off}
		if i >= len(tor.Files) || tor.Files[i] != want {
			t.Fatalf("file %d: got %+v, want %+v", i, tor.Files, want)
		}
		off += int64(files[p])
	}
	if tor.TotalLength != off || tor.Name != "data" || tor.PieceCount != int(ceilDiv(off, 16<<10)) {
		t.Errorf("total %d name %q pieces %d", tor.TotalLength, tor.Name, tor.PieceCount)
	}
	if calls == 0 || last != off || lastTotal != off {
		t.Errorf("progress: %d calls, last %d/%d, want end at %d", calls, last, lastTotal, off)
	}
	again, err := Create(context.Background(), CreateOptions{Path: dir, PieceLength: 16 << 10, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Raw, tor.Raw) {
		t.Errorf("a second Create with 1 worker gave different bytes")
	}
}

func TestCreatePieceHashesMatchData(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	makeNestedTree(t, dir)
	tor, err := Create(context.Background(), CreateOptions{Path: dir, PieceLength: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range tor.Files {
		b, err := os.ReadFile(filepath.Join(tor.DataDirFor(filepath.Dir(dir)), f.Path))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	for i := 0; i < tor.PieceCount; i++ {
		end := min(int64(i+1)*tor.PieceLength, int64(len(all)))
		if got, want := sha1Of(all[int64(i)*tor.PieceLength:end]), tor.Info.Pieces[i*20:i*20+20]; !bytes.Equal(got[:], want) {
			t.Fatalf("piece %d hash mismatch", i)
		}
	}
}

func TestCreateSingleFile(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	p := filepath.Join(parent, "one.bin")
	writeFile(t, p, bytes.Repeat([]byte("x"), 70_000))
	tor, err := Create(context.Background(), CreateOptions{Path: p, Trackers: []string{"http://127.0.0.1:9/announce", "udp://127.0.0.1:9"},
		WebSeeds: []string{"http://127.0.0.1:9/ws/"}, Comment: "c", Private: true})
	if err != nil {
		t.Fatal(err)
	}
	if tor.Name != "one.bin" || len(tor.Files) != 1 || tor.Files[0] != (File{0, "one.bin", 70_000, 0}) {
		t.Fatalf("name %q files %+v", tor.Name, tor.Files)
	}
	if tor.DataDirFor(parent) != parent || tor.PieceLength != 256<<10 || tor.PieceCount != 1 {
		t.Errorf("data dir %q piece length %d count %d", tor.DataDirFor(parent), tor.PieceLength, tor.PieceCount)
	}
	if len(tor.Trackers) != 2 || len(tor.WebSeeds) != 1 || tor.Info.Private == nil || !*tor.Info.Private || tor.MetaInfo.Comment != "c" {
		t.Errorf("trackers %v webseeds %v private %v comment %q", tor.Trackers, tor.WebSeeds, tor.Info.Private, tor.MetaInfo.Comment)
	}
}

func TestCreateDotPathIsNamedAfterTheDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "named")
	writeFile(t, filepath.Join(dir, "f"), []byte("data"))
	t.Chdir(dir)
	tor, err := Create(context.Background(), CreateOptions{Path: "."})
	if err != nil {
		t.Fatal(err)
	}
	if tor.Name != "named" || tor.Files[0].Path != "f" {
		t.Errorf("name %q files %+v", tor.Name, tor.Files)
	}
}

func TestCreateRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("symlink inside", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "d", "real"), []byte("data"))
		link := filepath.Join(dir, "d", "sub", "link")
		os.MkdirAll(filepath.Dir(link), 0o755)
		if err := os.Symlink("../real", link); err != nil {
			t.Fatal(err)
		}
		_, err := Create(ctx, CreateOptions{Path: filepath.Join(dir, "d")})
		wantErr(t, err, link+" is a symlink")
	})
	t.Run("symlinked dir inside", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "d", "f"), []byte("data"))
		os.Symlink(t.TempDir(), filepath.Join(dir, "d", "ld"))
		_, err := Create(ctx, CreateOptions{Path: filepath.Join(dir, "d")})
		wantErr(t, err, filepath.Join(dir, "d", "ld")+" is a symlink")
	})
	t.Run("symlink as root", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "f"), []byte("data"))
		os.Symlink(filepath.Join(dir, "f"), filepath.Join(dir, "l"))
		_, err := Create(ctx, CreateOptions{Path: filepath.Join(dir, "l")})
		wantErr(t, err, "is not a regular file or directory")
	})
	t.Run("fifo inside", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "f"), []byte("data"))
		if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Create(ctx, CreateOptions{Path: dir})
		wantErr(t, err, filepath.Join(dir, "pipe")+" is not a regular file")
	})
	t.Run("only empty files", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "e"), nil)
		_, err := Create(ctx, CreateOptions{Path: dir})
		wantErr(t, err, "has no data (total length 0)")
	})
	t.Run("empty dir", func(t *testing.T) {
		_, err := Create(ctx, CreateOptions{Path: t.TempDir()})
		wantErr(t, err, "contains no files")
	})
	t.Run("missing path", func(t *testing.T) {
		_, err := Create(ctx, CreateOptions{Path: "/nonexistent/x"})
		wantErr(t, err, "/nonexistent/x")
	})
	t.Run("bad piece length", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "f"), []byte("data"))
		for _, pl := range []int64{1000, 8 << 10, 3 << 20, -1} {
			_, err := Create(ctx, CreateOptions{Path: dir, PieceLength: pl})
			wantErr(t, err, "is not a power of two between 16 KiB")
		}
	})
	t.Run("bad name", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "f"), []byte("data"))
		_, err := Create(ctx, CreateOptions{Path: dir, Name: "a/b"})
		wantErr(t, err, `name "a/b" has '/' inside a component`)
	})
	t.Run("bad tracker", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "f"), []byte("data"))
		_, err := Create(ctx, CreateOptions{Path: dir, Trackers: []string{"not a url"}})
		wantErr(t, err, `URL "not a url" is not absolute`)
	})
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) || strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error %q: want one line containing %q", err, want)
	}
}

// A file that changes between listing and hashing must fail Create, never
// yield a torrent whose lengths and hashes disagree. The change is made with
// real file operations between the two phases of Create.
func TestCreateDetectsFileChangedAfterListing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, want string
		change     func(path string) error
	}{
		{"shrunk", "file shrank while hashing", func(p string) error { return os.Truncate(p, 10) }},
		{"grown", "changed size while hashing", func(p string) error { return os.Truncate(p, 200_000) }},
		{"removed", "no such file or directory", os.Remove},
		{"replaced by symlink", "too many levels of symbolic links", func(p string) error {
			os.Remove(p)
			return os.Symlink("/etc/hostname", p)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a"), make([]byte, 100_000))
			writeFile(t, filepath.Join(dir, "b"), make([]byte, 5))
			p, err := planCreate(CreateOptions{Path: dir})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.change(filepath.Join(dir, "a")); err != nil {
				t.Fatal(err)
			}
			_, err = hashPlan(context.Background(), p, 2, nil)
			wantErr(t, err, c.want)
			if !strings.Contains(err.Error(), filepath.Join(dir, "a")) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestCreateCancelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRandomTree(t, dir, 4, 16<<20) // 64 MiB: 8 batches of 8 MiB
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls int
	_, err := Create(ctx, CreateOptions{Path: dir, PieceLength: 64 << 10, Workers: 2, Progress: func(h, total int64) {
		calls++
		cancel() // cancel after the first batch: the rest must not be read
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// After the first batch at most the workers+2 batches already in flight
	// can still report; 8 calls would mean hashing ran to the end.
	if calls > 1+4 {
		t.Errorf("%d progress calls after cancel: hashing did not stop promptly", calls)
	}
}

func TestChoosePieceLength(t *testing.T) {
	t.Parallel()
	const K, M, G = 1 << 10, 1 << 20, 1 << 30
	for _, c := range []struct{ total, want int64 }{
		{1, 256 * K}, {64 * M, 256 * K}, {512 * M, 256 * K}, {2 * G, 1 * M},
		{8 * G, 4 * M}, {32 * G, 16 * M}, {4096 * G, 16 * M},
	} {
		if got := ChoosePieceLength(c.total); got != c.want {
			t.Errorf("ChoosePieceLength(%d) = %d, want %d", c.total, got, c.want)
		}
	}
}
