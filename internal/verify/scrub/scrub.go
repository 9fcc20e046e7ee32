package scrub

import (
	"context"
	"crypto/sha1"
	"fmt"
	"hash"
	"runtime"
	"strings"
	"sync"

	"github.com/archivd/archivd/internal/prefetch"
	"golang.org/x/sync/errgroup"
)

// DefaultBlockSize is the default read size: large enough that a disk
// streams, small enough that a few buffers per worker stay cheap.
const DefaultBlockSize = 8 << 20

// Options tune a scrub. The zero value reads at full speed on all CPUs.
type Options struct {
	Workers   int        // hashing goroutines; 0 = number of CPUs
	BlockSize int64      // bytes per read batch (rounded to whole pieces); 0 = 8 MiB
	Limiter   *Limiter   // nil = unlimited
	Open      OpenerFunc // nil = DirOpener
	// Map hashes mapped page cache (mmap + MAP_POPULATE) instead of
	// pread(2) copies where the file allows it. Off by default: on this
	// project's benchmark machine it saved no CPU that could be measured
	// through the noise, and a fault on mapped memory is a harder path
	// (turned into io_error findings, tested) than a read error.
	Map bool
	// Background makes the scrub yield to everything else on the machine:
	// its reader and hasher goroutines run on threads of their own at
	// nice 19 and in the idle I/O class (see yieldThread), so a seeder in
	// the same process keeps its CPU and disk. The daemon's scrubs run so;
	// `verify --offline` does not (the operator is waiting for it).
	Background bool
	// Busy, if set, is asked before each block is read; while it says
	// true (the seeder is uploading) reads wait for BusyLimiter too, so a
	// scrub takes little of what seeding needs and still moves on.
	Busy        func() bool
	BusyLimiter *Limiter
	// OnPiece, if set, sees every piece's result (in no particular order;
	// calls are serialised).
	OnPiece func(Result)
}

// Scrub reads pieces [first, first+count) of t from disk and checks their
// hashes. Problems with the data are results, never errors: the error is
// only for bad arguments, an unopenable data dir or a cancelled ctx.
func Scrub(ctx context.Context, t *Target, first, count int, o Options) (Summary, error) {
	if first < 0 || count < 0 || first+count > t.NumPieces() {
		return Summary{}, fmt.Errorf("scrub: pieces [%d, %d) of %d: %w", first, first+count, t.NumPieces(), errRange)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.BlockSize <= 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.Open == nil {
		o.Open = DirOpener
	}
	op, err := o.Open(t.DataDir)
	if err != nil {
		return Summary{}, err
	}
	defer op.Close()
	s := &scrubber{t: t, o: o, op: op, first: first, end: first + count, cur: -1}
	s.perBatch = int(max(1, o.BlockSize/t.PieceLength))
	err = s.run(ctx)
	s.closeCur()
	return s.sum, err
}

type scrubber struct {
	t          *Target
	o          Options
	op         Opener
	first, end int
	perBatch   int

	// reader state: the one open file
	cur    int
	curR   Reader
	curErr error

	mu  sync.Mutex
	sum Summary
}

// batch is a run of whole pieces: read into one buffer, or mapped.
type batch struct {
	first, n int
	start    int64 // torrent offset of the first piece
	buf      []byte
	parts    [][][]byte // per piece, its data in order (in buf or mapped)
	mapped   bool       // some parts are mapped: hash with faults guarded
	release  []func()
	probs    []Result // per piece; Kind "" = read fine
}

func (s *scrubber) run(ctx context.Context) error {
	nbuf := s.o.Workers + 2
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- nil // allocated on first use
	}
	work := make(chan *batch, nbuf)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		s.yield()
		return s.read(gctx, work, free)
	})
	for range s.o.Workers {
		g.Go(func() error {
			s.yield()
			s.hash(work, free)
			return nil
		})
	}
	return g.Wait()
}

// yield lowers the calling goroutine's thread for a background scrub; it
// must be called first in a goroutine that ends with the scrub.
func (s *scrubber) yield() {
	if s.o.Background {
		yieldThread()
	}
}

func (s *scrubber) read(ctx context.Context, work chan<- *batch, free chan []byte) error {
	defer close(work)
	for p := s.first; p < s.end; p += s.perBatch {
		var buf []byte // made by fill when the batch is read, not mapped
		select {
		case buf = <-free:
		case <-ctx.Done():
			return fmt.Errorf("scrub: %w", ctx.Err())
		}
		b := &batch{first: p, n: min(s.perBatch, s.end-p), buf: buf}
		if s.o.Busy != nil && s.o.Busy() {
			if err := s.o.BusyLimiter.WaitN(ctx, int(int64(b.n)*s.t.PieceLength)); err != nil {
				return err
			}
		}
		if err := s.fill(ctx, b); err != nil {
			return err
		}
		work <- b
	}
	return nil
}

func (s *scrubber) hash(work <-chan *batch, free chan<- []byte) {
	m := &merkler{}
	for b := range work {
		for i := range b.n {
			s.check(b, i, m)
		}
		for _, r := range b.release {
			r()
		}
		free <- b.buf[:cap(b.buf)]
	}
}

func (s *scrubber) check(b *batch, i int, m *merkler) {
	r := b.probs[i]
	var hashed int64
	if r.Kind == "" {
		r, hashed = s.verdict(b, i, m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sum.PiecesChecked++
	s.sum.BytesHashed += hashed
	if r.Kind != OK {
		s.sum.Bad = append(s.sum.Bad, r)
	}
	if s.o.OnPiece != nil {
		s.o.OnPiece(r)
	}
}

// verdict hashes piece i of the batch (read without error) and returns its
// result and the bytes hashed.
func (s *scrubber) verdict(b *batch, i int, m *merkler) (Result, int64) {
	p := b.first + i
	ps, pe := s.t.pieceSpan(p)
	f := s.t.Files[s.fileAt(ps)]
	at := Result{Piece: p, File: f.Index, Path: f.Path, Offset: ps - f.Offset}
	bad, detail, err := s.mismatch(b, i, m)
	n := pe - ps
	if s.t.Hashes == nil {
		n = s.t.V2[p].Len // a v2-only torrent's padding is never read
	}
	switch {
	case err != nil:
		at.Kind, at.Detail = IOError, err.Error()
		return at, 0
	case bad:
		at.Kind, at.Detail = HashMismatch, detail
		return at, n
	}
	return Result{Piece: p, Kind: OK, File: -1}, n
}

// mismatch hashes piece i of the batch from its parts: SHA-1 for a v1
// hash, the BEP 52 merkle root for a v2 one, both for a hybrid. detail
// names the hash that differs (v2 and hybrid torrents only).
func (s *scrubber) mismatch(b *batch, i int, m *merkler) (bad bool, detail string, err error) {
	p := b.first + i
	parts := b.parts[i]
	do := func() {
		var what []string
		if s.t.V2 == nil {
			bad = sha1Of(parts) != s.t.Hashes[p]
			return
		}
		var h1 hash.Hash
		if s.t.Hashes != nil {
			h1 = sha1.New()
		}
		v := s.t.V2[p]
		if m.root(parts, v.Len, v.Leaves, h1) != v.Hash {
			what = append(what, "SHA-256 "+v2Kind(v)+" (v2)")
		}
		if h1 != nil && [20]byte(h1.Sum(nil)) != s.t.Hashes[p] {
			what = append([]string{"SHA-1 piece hash (v1)"}, what...)
		}
		if bad = len(what) > 0; bad {
			detail = strings.Join(what, " and ") + " differs"
		}
	}
	if !b.mapped {
		do()
		return bad, detail, nil
	}
	return bad, detail, hashGuarded(do)
}

func sha1Of(parts [][]byte) (sum [20]byte) {
	h := sha1.New()
	for _, p := range parts {
		prefetch.WriteTouched(h, p)
	}
	h.Sum(sum[:0])
	return sum
}

// v2Kind says which v2 hash a piece has: a piece layer entry, or the
// pieces root of a file that fits in one piece.
func v2Kind(v V2Piece) string {
	if v.Root {
		return "pieces root"
	}
	return "piece layer hash"
}

// fileAt returns the index of the file holding torrent byte off (skipping
// zero-length files).
func (s *scrubber) fileAt(off int64) int { return s.t.fileAt(off) }
