package scrub

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/torrentfile"
)

const v2PieceLen = 64 << 10

// v2Tree is the data of the v2 tests: a file shorter than one leaf, a file
// of five pieces whose last is partial, one of exactly two pieces, an
// empty file, a file of several leaves shorter than a piece, and an empty
// file last (after a file that does not end on a piece boundary).
var v2Tree = map[string]int{"a.bin": 10_000, "b.bin": 300_001, "c/d.bin": 2 * v2PieceLen, "e.bin": 0, "f.bin": 40_000, "z.bin": 0}

// v2Fixture is a torrent made by libtorrent and imported into a real
// catalog the way `archivd add` does it.
type v2Fixture struct {
	parent  string // libtorrent's save path: the torrent's data is parent/tree
	torrent string
	row     catalog.Torrent
	files   []catalog.File
	tg      *Target
}

func newV2Fixture(t *testing.T, kind string) *v2Fixture {
	t.Helper()
	requireLibtorrent(t)
	ctx := context.Background()
	f := &v2Fixture{parent: t.TempDir(), torrent: filepath.Join(t.TempDir(), kind+".torrent")}
	rng := rand.New(rand.NewPCG(52, uint64(len(kind))))
	for name, n := range v2Tree {
		p := filepath.Join(f.parent, "tree", name)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var done map[string]any
	lt(t, map[string]any{"mode": "create", "kind": kind, "path": filepath.Join(f.parent, "tree"), "parent": f.parent,
		"piece_length": v2PieceLen, "out": f.torrent}, &done)
	db := pgtest.New(t)
	coll, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", DataRoot: f.parent})
	if err != nil {
		t.Fatal(err)
	}
	added, _, err := importer.ImportFile(ctx, db, "", coll, f.torrent, "cli")
	if kind == "v2" {
		// archivd add refuses v2-only torrents (the engine cannot seed
		// them), but the scrubber must check any catalog row: store it
		// the way the importer would.
		if !errors.Is(err, importer.ErrUnsupported) {
			t.Fatalf("import of a v2-only torrent: %v, want ErrUnsupported", err)
		}
		added, err = addUnchecked(ctx, db, f.torrent, coll)
	}
	if err != nil {
		t.Fatal(err)
	}
	if f.row, err = db.TorrentByID(ctx, added.ID); err != nil {
		t.Fatal(err)
	}
	if f.files, err = db.Files(ctx, added.ID); err != nil {
		t.Fatal(err)
	}
	if f.tg, err = FromTorrent(f.row, f.files); err != nil {
		t.Fatalf("target of the %s torrent: %v", kind, err)
	}
	return f
}

// addUnchecked stores a torrent file in the catalog as the importer does,
// without its seedability check.
func addUnchecked(ctx context.Context, db *catalog.DB, path string, coll catalog.Collection) (catalog.Torrent, error) {
	tf, err := torrentfile.Load(path)
	if err != nil {
		return catalog.Torrent{}, err
	}
	return db.AddTorrent(ctx, importer.NewTorrentOf(tf, coll.Name, tf.DataDirFor(coll.DataRoot)))
}

// flip changes the byte at off of the named file and returns the piece it
// is in, by the catalog's file offsets (the engine's numbering).
func (f *v2Fixture) flip(t *testing.T, name string, off int64) int {
	t.Helper()
	flipFileByte(t, filepath.Join(f.row.DataDir, name), off)
	for _, c := range f.files {
		if c.Path == name {
			return int((c.Offset + off) / f.row.PieceLength)
		}
	}
	t.Fatalf("no file %s in the catalog", name)
	return -1
}

func flipFileByte(t *testing.T, path string, off int64) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b := []byte{0}
	if _, err := fh.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x81
	if _, err := fh.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

var v2ScrubOptions = map[string]Options{
	"pread":           {},
	"mmap":            {Map: true},
	"piece per batch": {BlockSize: 1, Workers: 3},
}

// TestScrubV2AndHybridFindExactlyTheDamagedPieces: for a v2-only and a
// hybrid torrent made by libtorrent and imported into the catalog, clean
// data gives no finding (and libtorrent agrees it is complete); after
// bytes are flipped in a file shorter than a piece, in the middle and the
// last partial piece of a long file and at the end of a file of several
// leaves, the scrub finds exactly those pieces, as hash mismatches in the
// right files, and libtorrent's own check misses exactly the same pieces.
func TestScrubV2AndHybridFindExactlyTheDamagedPieces(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"v2", "hybrid"} {
		t.Run(kind, func(t *testing.T) {
			f := newV2Fixture(t, kind)
			if (f.tg.Hashes != nil) != (kind == "hybrid") || f.tg.V2 == nil {
				t.Fatalf("%s target: %d v1 hashes, %d v2 pieces", kind, len(f.tg.Hashes), len(f.tg.V2))
			}
			if f.tg.NumPieces() != f.row.PieceCount {
				t.Fatalf("target has %d pieces, catalog %d", f.tg.NumPieces(), f.row.PieceCount)
			}
			if missing, n := ltMissing(t, f.torrent, f.parent); len(missing) != 0 || n != f.tg.NumPieces() {
				t.Fatalf("libtorrent: clean data misses pieces %v of %d (we have %d pieces)", missing, n, f.tg.NumPieces())
			}
			for name, o := range v2ScrubOptions {
				if s := scrubAll(t, f.tg, o); len(s.Bad) != 0 {
					t.Fatalf("%s, clean data: %+v", name, s.Bad)
				}
			}
			want := []int{f.flip(t, "a.bin", 5000), f.flip(t, "b.bin", 70_000), f.flip(t, "b.bin", 300_000), f.flip(t, "f.bin", 39_999)}
			slices.Sort(want)
			t.Logf("%s: %d pieces, %d files in the target (padding included), damaged pieces %v", kind, f.tg.NumPieces(), len(f.tg.Files), want)
			for name, o := range v2ScrubOptions {
				s := scrubAll(t, f.tg, o)
				if got := badPieces(s, HashMismatch); !slices.Equal(got, want) || len(s.Bad) != len(want) {
					t.Fatalf("%s: bad %+v, want hash mismatches at %v", name, s.Bad, want)
				}
				checkV2Findings(t, f, s.Bad, kind)
			}
			if missing, _ := ltMissing(t, f.torrent, f.parent); !slices.Equal(missing, want) {
				t.Fatalf("libtorrent misses pieces %v, the scrub found %v", missing, want)
			}
		})
	}
}

// checkV2Findings: each finding names the catalog file holding the piece
// (by index and path) and which hashes failed.
func checkV2Findings(t *testing.T, f *v2Fixture, bad []Result, kind string) {
	t.Helper()
	for _, r := range bad {
		c := f.files[r.File]
		start := int64(r.Piece) * f.row.PieceLength
		if c.Path != r.Path || start < c.Offset || start >= c.Offset+c.Length || r.Offset != start-c.Offset {
			t.Fatalf("finding %+v is not in catalog file %+v", r, c)
		}
		if !strings.Contains(r.Detail, "SHA-256") || strings.Contains(r.Detail, "SHA-1") != (kind == "hybrid") {
			t.Fatalf("%s finding detail %q", kind, r.Detail)
		}
	}
}

// TestScrubHybridEitherHashMismatchIsAFinding: a hybrid piece is good only
// if both its SHA-1 and its SHA-256 match; a wrong hash of either kind
// alone (as a torrent whose halves disagree would have) is a finding.
func TestScrubHybridEitherHashMismatchIsAFinding(t *testing.T) {
	t.Parallel()
	f := newV2Fixture(t, "hybrid")
	tg := *f.tg
	tg.Hashes = slices.Clone(tg.Hashes)
	tg.V2 = slices.Clone(tg.V2)
	tg.Hashes[1][0] ^= 1
	last := tg.NumPieces() - 1
	tg.V2[last].Hash[0] ^= 1
	s := scrubAll(t, &tg, Options{})
	if got := badPieces(s, HashMismatch); !slices.Equal(got, []int{1, last}) || len(s.Bad) != 2 {
		t.Fatalf("bad %+v, want pieces 1 and %d", s.Bad, last)
	}
	for _, r := range s.Bad {
		v1 := strings.Contains(r.Detail, "SHA-1")
		v2 := strings.Contains(r.Detail, "SHA-256")
		if (r.Piece == 1) != v1 || (r.Piece == last) != v2 {
			t.Fatalf("piece %d: detail %q", r.Piece, r.Detail)
		}
	}
}

// TestFromTorrentV2RefusesCatalogRowsThatDisagree: the scrubber reads what
// the catalog says; if its rows are not the torrent's v2 layout, piece
// numbers would point at the wrong data, so the target is refused.
func TestFromTorrentV2RefusesCatalogRowsThatDisagree(t *testing.T) {
	t.Parallel()
	f := newV2Fixture(t, "v2")
	files := slices.Clone(f.files)
	files[1].Offset++
	if _, err := FromTorrent(f.row, files); err == nil || !strings.Contains(err.Error(), "not the v2 file tree") {
		t.Fatalf("shifted file accepted: %v", err)
	}
	if _, err := FromTorrent(f.row, files[:2]); err == nil || !strings.Contains(err.Error(), "catalog has 2 files") {
		t.Fatalf("missing files accepted: %v", err)
	}
}
