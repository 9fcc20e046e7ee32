package torrentfile

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/archivd/archivd/internal/prefetch"
	"golang.org/x/sync/errgroup"
)

// batchBytes is the size of one read: large sequential reads keep the
// syscall count low, and a batch of whole pieces lets a worker hash without
// waiting for the reader.
const batchBytes = 8 << 20

// batch is a buffer of whole pieces, filled by the reader in torrent order.
type batch struct {
	buf        []byte
	n          int // bytes filled
	firstPiece int
}

// hashPlan reads the files in order in one goroutine and hashes pieces on
// `workers` goroutines. Memory is bounded by workers+2 batch buffers, which
// circulate between the reader and the workers.
func hashPlan(ctx context.Context, p *plan, workers int, progress func(int64, int64)) ([]byte, error) {
	pieceCount := int(ceilDiv(p.total, p.pieceLength))
	pieces := make([]byte, pieceCount*20)
	perBatch := max(1, batchBytes/p.pieceLength)
	nbuf := workers + 2
	free := make(chan *batch, nbuf)
	for range nbuf {
		free <- &batch{buf: make([]byte, perBatch*p.pieceLength)}
	}
	full := make(chan *batch, nbuf)
	// Unbuffered: a worker's count is taken before it starts another
	// batch, so after a cancel at most `workers` more batches report.
	done := make(chan int64)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return readAll(gctx, p, perBatch, free, full) })
	for range workers {
		g.Go(func() error { return hashBatches(gctx, p.pieceLength, pieces, full, free, done) })
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
	if err := <-errc; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return pieces, nil
}

func hashBatches(ctx context.Context, pl int64, pieces []byte, full <-chan *batch, free chan<- *batch, done chan<- int64) error {
	h := sha1.New()
	for b := range full {
		if err := ctx.Err(); err != nil {
			return err // cancelled: batches still queued are not hashed
		}
		for off, i := 0, b.firstPiece; off < b.n; off, i = off+int(pl), i+1 {
			// The batch was read into a buffer far larger than the
			// cache: touched ahead, the hash does not stall on each
			// cache line (see prefetch.Touch).
			h.Reset()
			prefetch.WriteTouched(h, b.buf[off:min(off+int(pl), b.n)])
			h.Sum(pieces[i*20 : i*20])
		}
		n := int64(b.n)
		free <- b // never blocks: free has room for every buffer
		if err := ctx.Err(); err != nil {
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

// readAll fills batches from the files in torrent order; pieces that span
// file boundaries are simply filled from both files.
func readAll(ctx context.Context, p *plan, perBatch int64, free <-chan *batch, full chan<- *batch) error {
	defer close(full)
	r := fileReader{files: p.files}
	defer r.close()
	for piece := 0; ; piece += int(perBatch) {
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		// select picks at random when both are ready: after a cancel
		// no further batch is read.
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.fill(b.buf)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		b.n, b.firstPiece = n, piece
		full <- b // never blocks: full has room for every buffer
		if n < len(b.buf) {
			return nil
		}
	}
}

// fileReader reads the concatenation of files, checking that each file
// still has the length it had when it was listed: a torrent whose lengths
// and hashes disagree must never be produced.
type fileReader struct {
	files []srcFile
	next  int
	f     *os.File
	cur   srcFile
	left  int64
}

// fill reads until buf is full or all files are read, and returns the count.
func (r *fileReader) fill(buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		if r.left == 0 {
			ok, err := r.advance()
			if err != nil || !ok {
				return n, err
			}
			continue
		}
		m, err := r.f.Read(buf[n:min(int64(len(buf)), int64(n)+r.left)])
		n += m
		r.left -= int64(m)
		if err == io.EOF || (err == nil && m == 0) {
			return n, fmt.Errorf("read %s: file shrank while hashing (listed as %d bytes)", r.cur.abs, r.cur.length)
		}
		if err != nil {
			return n, fmt.Errorf("read %s: %w", r.cur.abs, err)
		}
	}
	return n, nil
}

// advance closes the current file (checking it did not grow) and opens the
// next one. Zero-length files are opened too, so an unreadable one is caught.
func (r *fileReader) advance() (bool, error) {
	if err := r.closeChecked(); err != nil {
		return false, err
	}
	if r.next == len(r.files) {
		return false, nil
	}
	r.cur = r.files[r.next]
	r.next++
	f, err := openRegular(r.cur.abs)
	if err != nil {
		return false, err
	}
	r.f, r.left = f, r.cur.length
	return true, nil
}

func (r *fileReader) closeChecked() error {
	if r.f == nil {
		return nil
	}
	fi, err := r.f.Stat()
	r.close()
	if err != nil {
		return fmt.Errorf("stat %s: %w", r.cur.abs, err)
	}
	if fi.Size() != r.cur.length {
		return fmt.Errorf("%s changed size while hashing (%d bytes, listed as %d)", r.cur.abs, fi.Size(), r.cur.length)
	}
	return nil
}

// openRegular opens path for reading only if it is still a regular file:
// O_NOFOLLOW refuses a symlink swapped in since the walk, and O_NONBLOCK keeps
// a swapped-in FIFO from blocking the open forever.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("no longer a regular file (%s)", fi.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

func (r *fileReader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}
