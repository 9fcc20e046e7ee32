package scrub

import (
	"context"
	"crypto/sha1"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/archivd/archivd/internal/verify/clock"
)

// makeData writes files of the given sizes under a fresh dir and builds the
// target with the torrent library's own hashing (an independent check of
// ours).
func makeData(t *testing.T, pieceLen int64, sizes ...int64) *Target {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, uint64(len(sizes))))
	for i, n := range sizes {
		p := filepath.Join(dir, "d", string(rune('a'+i))+".bin")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := metainfo.Info{PieceLength: pieceLen}
	if err := info.BuildFromFilePath(dir); err != nil {
		t.Fatal(err)
	}
	tg := &Target{DataDir: dir, PieceLength: pieceLen, TotalLength: info.TotalLength()}
	for i := 0; i < len(info.Pieces); i += 20 {
		tg.Hashes = append(tg.Hashes, [20]byte(info.Pieces[i:i+20]))
	}
	var off int64
	for _, f := range info.UpvertedFiles() {
		tg.Files = append(tg.Files, File{Path: strings.Join(f.Path, "/"), Length: f.Length, Offset: off, Index: len(tg.Files)})
		off += f.Length
	}
	if err := tg.Validate(); err != nil {
		t.Fatal(err)
	}
	return tg
}

func scrubAll(t *testing.T, tg *Target, o Options) Summary {
	t.Helper()
	s, err := Scrub(context.Background(), tg, 0, tg.NumPieces(), o)
	if err != nil {
		t.Fatalf("scrub: %v", err)
	}
	if s.PiecesChecked != tg.NumPieces() {
		t.Fatalf("checked %d pieces, want %d", s.PiecesChecked, tg.NumPieces())
	}
	return s
}

func badPieces(s Summary, k Kind) []int {
	var ps []int
	for _, r := range s.Bad {
		if r.Kind == k {
			ps = append(ps, r.Piece)
		}
	}
	slices.Sort(ps)
	return ps
}

func flipByte(t *testing.T, tg *Target, off int64) {
	t.Helper()
	fi := sortSearch(tg, off)
	p := filepath.Join(tg.DataDir, tg.Files[fi].Path)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off-tg.Files[fi].Offset); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off-tg.Files[fi].Offset); err != nil {
		t.Fatal(err)
	}
}

func sortSearch(tg *Target, off int64) int { return (&scrubber{t: tg}).fileAt(off) }

func TestScrubCleanDataAllPiecesOK(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 100_000, 0, 3, 250_001, 16<<10)
	for _, bs := range []int64{1, 64 << 10, 8 << 20} {
		s := scrubAll(t, tg, Options{BlockSize: bs, Workers: 3})
		if m := scrubAll(t, tg, Options{BlockSize: bs, Map: true}); len(m.Bad) != 0 || m.BytesHashed != tg.TotalLength {
			t.Fatalf("block %d mapped: bad %v, hashed %d", bs, m.Bad, m.BytesHashed)
		}
		if len(s.Bad) != 0 || s.BytesHashed != tg.TotalLength {
			t.Fatalf("block %d: bad %v, hashed %d of %d", bs, s.Bad, s.BytesHashed, tg.TotalLength)
		}
	}
}

func TestScrubFindsExactlyTheFlippedPieces(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 100_000, 7, 250_001, 33_000)
	rng := rand.New(rand.NewPCG(7, 7))
	want := map[int]bool{}
	for len(want) < 5 {
		off := rng.Int64N(tg.TotalLength)
		flipByte(t, tg, off)
		want[int(off/tg.PieceLength)] = true
	}
	s := scrubAll(t, tg, Options{BlockSize: 48 << 10})
	got := badPieces(s, HashMismatch)
	var w []int
	for p := range want {
		w = append(w, p)
	}
	slices.Sort(w)
	if !slices.Equal(got, w) || len(s.Bad) != len(w) {
		t.Fatalf("bad pieces %v (all %v), want %v", got, s.Bad, w)
	}
}

func TestScrubTruncatedFileIsShortFile(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 100_000, 50_000)
	// Cut file 0 at 40,000 bytes: pieces 2..6 (bytes 32768..114687) are
	// short; piece 6 spans into file 1 and must be short too, not ok.
	if err := os.Truncate(filepath.Join(tg.DataDir, tg.Files[0].Path), 40_000); err != nil {
		t.Fatal(err)
	}
	s := scrubAll(t, tg, Options{})
	if got := badPieces(s, ShortFile); !slices.Equal(got, []int{2, 3, 4, 5, 6}) || len(s.Bad) != 5 {
		t.Fatalf("short pieces %v (all %v)", got, s.Bad)
	}
	for _, r := range s.Bad {
		if r.Piece == 2 && (r.File != 0 || r.Offset != 40_000) {
			t.Fatalf("piece 2 reported at file %d offset %d, want file 0 offset 40000", r.File, r.Offset)
		}
	}
}

func TestScrubDeletedFileIsMissingFile(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 100_000, 50_000, 30_000)
	if err := os.Remove(filepath.Join(tg.DataDir, tg.Files[1].Path)); err != nil {
		t.Fatal(err)
	}
	s := scrubAll(t, tg, Options{})
	// file 1 = bytes 100000..149999 -> pieces 6..9
	if got := badPieces(s, MissingFile); !slices.Equal(got, []int{6, 7, 8, 9}) || len(s.Bad) != 4 {
		t.Fatalf("missing pieces %v (all %v)", got, s.Bad)
	}
}

func TestScrubMissingDataDirIsMissingFiles(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 40_000)
	tg.DataDir = filepath.Join(tg.DataDir, "gone")
	s := scrubAll(t, tg, Options{})
	if len(badPieces(s, MissingFile)) != tg.NumPieces() {
		t.Fatalf("want all pieces missing, got %v", s.Bad)
	}
}

// faultOpener injects EIO for reads touching one file region.
type faultOpener struct {
	Opener
	path     string
	from, to int64
}

type faultReader struct {
	Reader
	from, to int64
}

func (o faultOpener) Open(rel string) (Reader, error) {
	r, err := o.Opener.Open(rel)
	if err != nil || rel != o.path {
		return r, err
	}
	return faultReader{r, o.from, o.to}, nil
}

func (r faultReader) ReadAt(b []byte, off int64) (int, error) {
	if off < r.to && off+int64(len(b)) > r.from {
		n := max(0, int(r.from-off))
		return n, &os.PathError{Op: "read", Path: "injected", Err: syscall.EIO}
	}
	return r.Reader.ReadAt(b, off)
}

func TestScrubInjectedEIOMarksOnlyThatPieceAndGoesOn(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 100_000, 50_000)
	open := func(dir string) (Opener, error) {
		o, err := DirOpener(dir)
		return faultOpener{o, tg.Files[1].Path, 20_000, 20_001}, err
	}
	s := scrubAll(t, tg, Options{Open: open})
	// file 1 byte 20000 = torrent byte 120000 -> piece 7
	if len(s.Bad) != 1 || s.Bad[0].Kind != IOError || s.Bad[0].Piece != 7 || s.Bad[0].File != 1 || s.Bad[0].Offset != 20_000 {
		t.Fatalf("bad %+v, want one io_error at piece 7 file 1 offset 20000", s.Bad)
	}
	if !strings.Contains(s.Bad[0].Detail, "input/output error") {
		t.Fatalf("detail %q does not carry EIO", s.Bad[0].Detail)
	}
}

func TestScrubDirectoryOrFIFOInPlaceOfFileIsIOError(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 40_000, 40_000, 40_000)
	p1 := filepath.Join(tg.DataDir, tg.Files[1].Path)
	p2 := filepath.Join(tg.DataDir, tg.Files[2].Path)
	for _, p := range []string{p1, p2} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(p1, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p2, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan Summary, 1)
	go func() { done <- scrubAll(t, tg, Options{}) }()
	var s Summary
	select {
	case s = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("scrub blocked on a FIFO")
	}
	// file 1 = bytes 40000..79999 -> pieces 2..4; file 2 -> pieces 4..7
	if got := badPieces(s, IOError); !slices.Equal(got, []int{2, 3, 4, 5, 6, 7}) || len(s.Bad) != 6 {
		t.Fatalf("io_error pieces %v (all %+v)", got, s.Bad)
	}
	for _, r := range s.Bad {
		if r.Piece == 3 && !strings.Contains(r.Detail, "is a directory") {
			t.Fatalf("directory read detail %q, want EISDIR", r.Detail)
		}
	}
}

func TestScrubRefusesSymlinkOutOfDataDir(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 40_000)
	outside := filepath.Join(t.TempDir(), "secret")
	p := filepath.Join(tg.DataDir, tg.Files[0].Path)
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(outside, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	s := scrubAll(t, tg, Options{})
	if len(s.Bad) != tg.NumPieces() || s.BytesHashed != 0 {
		t.Fatalf("symlink out of the data dir was followed: bad %v hashed %d", s.Bad, s.BytesHashed)
	}
}

func TestScrubRateLimitWithinTenPercent(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 1<<20)
	clk := clock.NewAutoFake(time.Unix(1e9, 0))
	const rate = 256 << 10 // 1 MiB at 256 KiB/s = 4 s of fake time
	start := clk.Now()
	s := scrubAll(t, tg, Options{BlockSize: 64 << 10, Limiter: NewLimiter(rate, clk)})
	got := clk.Now().Sub(start).Seconds()
	want := float64(s.BytesHashed) / rate
	if got < want*0.9 || got > want*1.1 {
		t.Fatalf("1 MiB at %d B/s took %.2fs of clock time, want %.2fs ±10%%", rate, got, want)
	}
}

func TestScrubRangeAndBadArguments(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 100_000)
	s, err := Scrub(context.Background(), tg, 2, 3, Options{})
	if err != nil || s.PiecesChecked != 3 || s.BytesHashed != 3*16<<10 {
		t.Fatalf("range scrub: %+v, %v", s, err)
	}
	if _, err := Scrub(context.Background(), tg, 5, 3, Options{}); !errors.Is(err, errRange) {
		t.Fatalf("out of range: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scrub(ctx, tg, 0, tg.NumPieces(), Options{BlockSize: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scrub: %v", err)
	}
}

func TestScrubPaddingFilesAreZerosNotMissingFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const pl = 16 << 10
	a := make([]byte, 20_000)
	for i := range a {
		a[i] = byte(i * 7)
	}
	b := []byte("tail of the second file")
	if err := os.WriteFile(filepath.Join(dir, "a"), a, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	pad := int64(2*pl - len(a))
	data := append(append(append([]byte{}, a...), make([]byte, pad)...), b...)
	tg := &Target{DataDir: dir, PieceLength: pl, TotalLength: int64(len(data)), Files: []File{
		{Path: "a", Length: int64(len(a))},
		{Path: ".pad/x", Length: pad, Offset: int64(len(a)), Pad: true},
		{Path: "b", Length: int64(len(b)), Offset: int64(len(a)) + pad},
	}}
	for off := 0; off < len(data); off += pl {
		tg.Hashes = append(tg.Hashes, sha1.Sum(data[off:min(off+pl, len(data))]))
	}
	if err := tg.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []bool{false, true} {
		if s := scrubAll(t, tg, Options{Map: m}); len(s.Bad) != 0 {
			t.Fatalf("map %v: padding reported bad: %+v", m, s.Bad)
		}
	}
}
