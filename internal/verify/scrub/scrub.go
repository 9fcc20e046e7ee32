package scrub

import (
	"context"
	"crypto/sha1"
	"fmt"
	"runtime"
	"sort"
	"sync"

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
	g.Go(func() error { return s.read(gctx, work, free) })
	for range s.o.Workers {
		g.Go(func() error { s.hash(work, free); return nil })
	}
	return g.Wait()
}

func (s *scrubber) read(ctx context.Context, work chan<- *batch, free chan []byte) error {
	defer close(work)
	size := int64(s.perBatch) * s.t.PieceLength
	for p := s.first; p < s.end; p += s.perBatch {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return fmt.Errorf("scrub: %w", ctx.Err())
		}
		if buf == nil {
			buf = make([]byte, size)
		}
		b := &batch{first: p, n: min(s.perBatch, s.end-p), buf: buf}
		if err := s.fill(ctx, b); err != nil {
			return err
		}
		work <- b
	}
	return nil
}

func (s *scrubber) hash(work <-chan *batch, free chan<- []byte) {
	for b := range work {
		for i := range b.n {
			s.check(b, i)
		}
		for _, r := range b.release {
			r()
		}
		free <- b.buf[:cap(b.buf)]
	}
}

func (s *scrubber) check(b *batch, i int) {
	p := b.first + i
	r := b.probs[i]
	ps, pe := s.t.pieceSpan(p)
	var hashed int64
	if r.Kind == "" {
		sum, err := s.pieceSum(b, i)
		fi := s.fileAt(ps)
		f := s.t.Files[fi]
		switch {
		case err != nil:
			r = Result{Piece: p, Kind: IOError, File: fi, Path: f.Path, Offset: ps - f.Offset, Detail: err.Error()}
		case sum == s.t.Hashes[p]:
			hashed = pe - ps
			r = Result{Piece: p, Kind: OK, File: -1}
		default:
			hashed = pe - ps
			r = Result{Piece: p, Kind: HashMismatch, File: fi, Path: f.Path, Offset: ps - f.Offset}
		}
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

// pieceSum hashes piece i of the batch from its parts.
func (s *scrubber) pieceSum(b *batch, i int) (sum [20]byte, err error) {
	parts := b.parts[i]
	do := func() {
		if len(parts) == 1 {
			sum = sha1.Sum(parts[0])
			return
		}
		h := sha1.New()
		for _, p := range parts {
			h.Write(p)
		}
		h.Sum(sum[:0])
	}
	if !b.mapped {
		do()
		return sum, nil
	}
	return sum, hashGuarded(do)
}

// fileAt returns the index of the file holding torrent byte off (skipping
// zero-length files).
func (s *scrubber) fileAt(off int64) int {
	fs := s.t.Files
	return sort.Search(len(fs), func(i int) bool { return fs[i].Offset+fs[i].Length > off })
}
