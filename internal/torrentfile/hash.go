package torrentfile

import (
	"context"
	"crypto/sha1"
	"fmt"
	"hash"
	"runtime/debug"
	"strings"

	"golang.org/x/sync/errgroup"
)

// batchBytes is the size of one batch: large sequential windows keep the
// syscall count low, and a batch of whole pieces lets a worker hash without
// waiting for the reader.
const batchBytes = 8 << 20

// batch is a window of whole pieces in torrent order. The data is mapped
// from the files (see mapper), not copied: on a 2-core machine the copy of
// read(2) costs a quarter of the hashing budget.
type batch struct {
	pieces     [][][]byte // per piece, its segments (several if it spans files)
	count      int        // pieces in use
	n          int64      // bytes in the batch
	firstPiece int
	release    []func() // unmaps, run after hashing
	files      []string // files in the batch, for error messages
}

func (b *batch) reset(first int) {
	for i := range b.pieces[:b.count] {
		b.pieces[i] = b.pieces[i][:0]
	}
	b.count, b.n, b.firstPiece = 0, 0, first
	b.release, b.files = b.release[:0], b.files[:0]
}

func (b *batch) unmap() {
	for _, f := range b.release {
		f()
	}
	b.release = b.release[:0]
}

// hashPlan maps the files in order in one goroutine and hashes pieces on
// `workers` goroutines. At most workers+2 batches (of batchBytes or one
// piece) are mapped at any time.
func hashPlan(ctx context.Context, p *plan, workers int, progress func(int64, int64)) ([]byte, error) {
	pieceCount := int(ceilDiv(p.total, p.pieceLength))
	pieces := make([]byte, pieceCount*20)
	perBatch := max(1, batchBytes/p.pieceLength)
	nbuf := workers + 2
	free := make(chan *batch, nbuf)
	for range nbuf {
		free <- &batch{pieces: make([][][]byte, perBatch)}
	}
	full := make(chan *batch, nbuf)
	done := make(chan int64, nbuf)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return readAll(gctx, p, perBatch, free, full) })
	for range workers {
		g.Go(func() error { return hashBatches(gctx, pieces, full, free, done) })
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Wait(); close(done) }()
	var hashed int64
	for n := range done {
		hashed += n
		if progress != nil {
			progress(hashed, p.total)
		}
	}
	err := <-errc
	for range nbuf { // every batch is back in free once all goroutines ended
		(<-free).unmap()
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return pieces, nil
}

func hashBatches(ctx context.Context, pieces []byte, full <-chan *batch, free chan<- *batch, done chan<- int64) error {
	h := sha1.New()
	for b := range full {
		err := hashBatch(h, b, pieces)
		n := b.n
		b.unmap()
		free <- b // never blocks: free has room for every batch
		if err != nil {
			return err
		}
		select {
		case done <- n:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// hashBatch hashes the pieces of b. A file truncated after it was mapped
// makes the access fault (SIGBUS); SetPanicOnFault turns that into a panic
// that is recovered here as an error instead of killing the process.
func hashBatch(h hash.Hash, b *batch, pieces []byte) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			// The runtime reports the fault as a nil dereference; the cause
			// is a mapped file that lost pages.
			err = fmt.Errorf("read %s: file truncated while hashing (memory fault on the mapped data)", strings.Join(b.files, ", "))
		}
	}()
	var sum [20]byte
	for i, segs := range b.pieces[:b.count] {
		if len(segs) == 1 {
			sum = sha1.Sum(segs[0])
		} else {
			h.Reset()
			for _, s := range segs {
				h.Write(s)
			}
			h.Sum(sum[:0])
		}
		copy(pieces[(b.firstPiece+i)*20:], sum[:])
	}
	return nil
}

// readAll maps batches from the files in torrent order; a piece that spans
// a file boundary gets one segment from each file.
func readAll(ctx context.Context, p *plan, perBatch int64, free chan *batch, full chan<- *batch) error {
	defer close(full)
	r := fileReader{files: p.files, pl: p.pieceLength}
	defer r.close()
	want := perBatch * p.pieceLength
	for piece := 0; ; piece += int(perBatch) {
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		b.reset(piece)
		err := r.fill(b, want)
		if err != nil || b.n == 0 {
			b.unmap()
			b.reset(piece)
			free <- b // never blocks: free has room for every batch
			return err
		}
		full <- b // never blocks: full has room for every batch
		if b.n < want {
			return nil
		}
	}
}
