package store

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// ltCreateHybrid makes libtorrent's default torrent (v1+v2 hybrid, BEP 47
// pad files in the v1 part) of path.
const ltCreateHybrid = `import json, sys, libtorrent as lt
a = json.loads(sys.argv[1])
fs = lt.file_storage(); lt.add_files(fs, a["path"])
ct = lt.create_torrent(fs, a["piece_length"])
lt.set_piece_hashes(ct, a["parent"])
open(a["out"], "wb").write(lt.bencode(ct.generate()))
`

const hybridPieceLen = 32 << 10

// hybridTree: files ending mid-piece and mid-block (so the v2 layout has
// padding gaps after them), nested directories, a zero-byte file.
var hybridTree = []struct {
	path string
	size int
}{
	{"a/one.bin", 100_000},
	{"a/empty.bin", 0},
	{"b/c/two.bin", 70_000},
	{"d.bin", 5_000},
}

// hybridFixture is a libtorrent-made hybrid imported into the catalog,
// with its data in src and an empty data directory for the store.
type hybridFixture struct {
	db    *catalog.DB
	row   catalog.Torrent
	files []catalog.File
	info  *metainfo.Info
	src   string // the original tree
	image []byte // the torrent's bytes in the engine's (v2) layout
}

func newHybridFixture(t *testing.T) *hybridFixture {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import libtorrent").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-libtorrent not available (CI): %v", err)
		}
		t.Skipf("python3-libtorrent not available: %v", err)
	}
	parent := t.TempDir()
	f := &hybridFixture{db: pgtest.New(t), src: filepath.Join(parent, "hyb")}
	rng := rand.New(rand.NewPCG(47, 52))
	for _, e := range hybridTree {
		b := make([]byte, e.size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		p := filepath.Join(f.src, filepath.FromSlash(e.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tor := filepath.Join(t.TempDir(), "hyb.torrent")
	arg, _ := json.Marshal(map[string]any{"path": f.src, "parent": parent, "piece_length": hybridPieceLen, "out": tor})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", ltCreateHybrid, string(arg)).CombinedOutput(); err != nil {
		t.Fatalf("libtorrent create: %v: %s", err, out)
	}
	f.importInto(t, tor)
	return f
}

// importInto imports the torrent into a collection whose data root is
// empty, and builds the expected byte image.
func (f *hybridFixture) importInto(t *testing.T, tor string) {
	t.Helper()
	ctx := context.Background()
	coll, err := f.db.CreateCollection(ctx, catalog.Collection{Name: "h", DataRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	added, _, err := importer.ImportFile(ctx, f.db, "", coll, tor, "cli")
	if err != nil {
		t.Fatalf("import hybrid: %v", err)
	}
	if f.row, err = f.db.TorrentByID(ctx, added.ID); err != nil {
		t.Fatal(err)
	}
	if f.files, err = f.db.Files(ctx, added.ID); err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.LoadFromFile(tor)
	if err != nil {
		t.Fatal(err)
	}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		t.Fatal(err)
	}
	f.info = &info
	f.image = make([]byte, int64(f.row.PieceCount)*f.row.PieceLength)
	for _, fe := range f.files {
		b, err := os.ReadFile(filepath.Join(f.src, filepath.FromSlash(fe.Path)))
		if err != nil {
			t.Fatal(err)
		}
		copy(f.image[fe.Offset:], b)
	}
}

// open registers the torrent in a running store and opens it as the
// engine would, with the torrent's own info.
// onSync, if not nil, observes every file fdatasync'ed.
func (f *hybridFixture) open(t *testing.T, onSync func(path string)) (*Store, storage.TorrentImpl) {
	t.Helper()
	s := newStore(t, f.db)
	s.onSync = onSync
	runStore(t, s)
	ctx := context.Background()
	if err := s.Register(ctx, f.row, f.files); err != nil {
		t.Fatalf("register hybrid: %v", err)
	}
	ti, err := s.ClientImpl().OpenTorrent(ctx, f.info, f.row.InfoHash)
	if err != nil {
		t.Fatalf("open hybrid: %v", err)
	}
	return s, ti
}

// index returns the catalog index of the file at path.
func (f *hybridFixture) index(t *testing.T, path string) int {
	t.Helper()
	for i, fe := range f.files {
		if fe.Path == path {
			return i
		}
	}
	t.Fatalf("no file %s in the catalog: %+v", path, f.files)
	return -1
}

// gap returns the padding after catalog file i: [start, end).
func (f *hybridFixture) gap(t *testing.T, i int) (int64, int64) {
	t.Helper()
	start, end := f.files[i].Offset+f.files[i].Length, f.files[i+1].Offset
	if end-start < 1000 {
		t.Fatalf("no padding after %s: %d to %d", f.files[i].Path, start, end)
	}
	return start, end
}

// TestHybridPiecesWrittenAndHashedAcrossPadding: every piece of a hybrid,
// written through the store the way the engine does (v2 piece lengths,
// which stop at a file's end), lands in exactly the torrent's files, no
// pad file is created, and each piece read back with its padding hashes
// to its v1 SHA-1. Marked complete, every piece is recorded in the catalog
// after fdatasync of the real files it touches, and of nothing else.
func TestHybridPiecesWrittenAndHashedAcrossPadding(t *testing.T) {
	f := newHybridFixture(t)
	var mu sync.Mutex
	synced := map[string]bool{}
	_, ti := f.open(t, func(path string) {
		mu.Lock()
		defer mu.Unlock()
		synced[path] = true
	})
	for i := range f.row.PieceCount {
		mp := f.info.Piece(i)
		p := ti.PieceWithHash(mp, nullHash())
		if _, err := p.WriteAt(f.image[mp.Offset():mp.Offset()+mp.Length()], 0); err != nil {
			t.Fatalf("write piece %d: %v", i, err)
		}
		h := sha1.New()
		if _, err := p.(io.WriterTo).WriteTo(h); err != nil {
			t.Fatalf("read piece %d: %v", i, err)
		}
		h.Write(make([]byte, mp.V1Length()-mp.Length()))
		if !bytes.Equal(h.Sum(nil), mp.V1Hash().Unwrap().Bytes()) {
			t.Fatalf("piece %d read back with padding does not match its v1 hash", i)
		}
		if err := p.MarkComplete(); err != nil {
			t.Fatalf("mark piece %d complete: %v", i, err)
		}
	}
	sameTreeAs(t, f.src, f.row.DataDir)
	testutil.Eventually(t, 10*time.Second, "all pieces recorded complete", func() bool {
		ps, err := f.db.LoadPieces(context.Background(), f.row.ID, f.row.PieceCount)
		return err == nil && ps.Complete.Count(f.row.PieceCount) == f.row.PieceCount
	})
	mu.Lock()
	defer mu.Unlock()
	for _, fe := range f.files {
		p := filepath.Join(f.row.DataDir, filepath.FromSlash(fe.Path))
		if synced[p] != (fe.Length > 0) {
			t.Errorf("%s (%d bytes): synced %v", fe.Path, fe.Length, synced[p])
		}
		delete(synced, p)
	}
	if len(synced) > 0 {
		t.Errorf("synced files that are not the torrent's: %v", synced)
	}
}

// TestHybridPaddingReadsZerosAndRefusesNonZeroWrites: a range over the
// padding between two files reads as zeros (counted as nothing read from
// disk); a write of zeros there stores only the files' bytes; a write with
// one non-zero padding byte is refused with ErrPadData and writes nothing.
func TestHybridPaddingReadsZerosAndRefusesNonZeroWrites(t *testing.T) {
	f := newHybridFixture(t)
	s, _ := f.open(t, nil)
	ts := s.torrent(f.row.InfoHash)
	oneIdx := f.index(t, "a/one.bin")
	start, end := f.gap(t, oneIdx) // b/c/two.bin follows
	off, n := start-100, end-start+200

	if _, err := s.writeAt(ts, f.image[off:off+n], off); err != nil {
		t.Fatalf("write across padding with zeros: %v", err)
	}
	got := bytes.Repeat([]byte{0xEE}, int(n))
	before := s.BytesRead()
	if _, err := s.readAt(ts, got, off); err != nil {
		t.Fatalf("read across padding: %v", err)
	}
	if !bytes.Equal(got, f.image[off:off+n]) {
		t.Fatal("read across padding: want the file tail, zeros, the next file's head")
	}
	if d := s.BytesRead() - before; d != 200 {
		t.Fatalf("read %d bytes from disk, want 200 (padding is not on disk)", d)
	}
	one := filepath.Join(f.row.DataDir, "a", "one.bin")
	if fi, err := os.Stat(one); err != nil || fi.Size() != f.files[oneIdx].Length {
		t.Fatalf("a/one.bin after a write across its padding: %v, %v (want %d bytes)", fi, err, f.files[oneIdx].Length)
	}

	bad := bytes.Repeat([]byte{0x5A}, int(n)) // differs from the files' bytes too
	if w, err := s.writeAt(ts, bad, off); !errors.Is(err, ErrPadData) || w != 0 {
		t.Fatalf("write of non-zero padding: wrote %d, %v; want 0, ErrPadData", w, err)
	}
	if _, err := s.readAt(ts, got, off); err != nil || !bytes.Equal(got, f.image[off:off+n]) {
		t.Fatalf("a refused padding write changed the files (read: %v)", err)
	}

	last := f.files[len(f.files)-1]
	if _, err := s.writeAt(ts, f.image[last.Offset:last.Offset+last.Length], last.Offset); err != nil {
		t.Fatal(err)
	}
	// Past the last file is not padding: the torrent's data ends there.
	if r, err := s.readAt(ts, make([]byte, 10), last.Offset+last.Length-5); r != 5 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read past the last file: %d bytes, %v; want 5, io.ErrUnexpectedEOF", r, err)
	}
	sameNames(t, f.row.DataDir, "a/empty.bin", "a/one.bin", "b/c/two.bin", "d.bin")
}

// TestRegisterRefusesFilesOffTheLayout: a file may start right after the
// previous one or at the next piece boundary after it, nowhere else.
func TestRegisterRefusesFilesOffTheLayout(t *testing.T) {
	f := newHybridFixture(t)
	two := f.index(t, "b/c/two.bin")
	for _, shift := range []int64{1, -1, hybridPieceLen} {
		files := append([]catalog.File(nil), f.files...)
		for i := two; i < len(files); i++ {
			files[i].Offset += shift
		}
		_, err := newTorrentState(f.row, files)
		if err == nil || !strings.Contains(err.Error(), `"b/c/two.bin"`) {
			t.Fatalf("two.bin moved by %d: %v, want a refusal naming it", shift, err)
		}
	}
	if _, err := newTorrentState(f.row, f.files); err != nil {
		t.Fatalf("the libtorrent layout itself: %v", err)
	}
}

// sameTreeAs fails unless dir holds exactly src's regular files, equal.
func sameTreeAs(t *testing.T, src, dir string) {
	t.Helper()
	var names []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		names = append(names, filepath.ToSlash(rel))
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the source", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, dir, names...)
}

// sameNames fails unless the regular files under dir are exactly names.
func sameNames(t *testing.T, dir string, names ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !want[filepath.ToSlash(rel)] {
			t.Errorf("unexpected file %s in the data directory (a pad file?)", rel)
		}
		delete(want, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for n := range want {
		t.Errorf("file %s missing from the data directory", n)
	}
}
