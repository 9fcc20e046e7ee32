package torrentfile

import (
	"fmt"
	"os"
	"syscall"
)

// fileReader walks the concatenation of the files, checking that each file
// still has the length it had when it was listed: a torrent whose lengths
// and hashes disagree must never be produced.
type fileReader struct {
	files []srcFile
	pl    int64
	next  int
	f     *os.File
	cur   srcFile
	left  int64
}

// fill adds up to want bytes to b, as mapped segments split at piece
// boundaries, stopping early only at the end of the data.
func (r *fileReader) fill(b *batch, want int64) error {
	for b.n < want {
		if r.left == 0 {
			ok, err := r.advance()
			if err != nil || !ok {
				return err
			}
			continue
		}
		m := min(want-b.n, r.left)
		data, release, err := mapRange(r.f, r.cur.length-r.left, m)
		if err != nil {
			return fmt.Errorf("read %s: %w", r.cur.abs, err)
		}
		b.release = append(b.release, release)
		b.files = append(b.files, r.cur.abs)
		r.left -= m
		r.split(b, data)
	}
	return nil
}

// split appends data to the batch's pieces, cutting at piece boundaries.
func (r *fileReader) split(b *batch, data []byte) {
	for len(data) > 0 {
		i := int(b.n / r.pl)
		k := min(int64(len(data)), int64(i+1)*r.pl-b.n)
		b.pieces[i] = append(b.pieces[i], data[:k])
		b.count = i + 1
		b.n += k
		data = data[k:]
	}
}

// mapRange maps n bytes of f at off. MAP_POPULATE makes the kernel read the
// window now, sequentially and in this goroutine, so the hashers only hash.
// Where mmap is not supported it falls back to reading into a buffer.
func mapRange(f *os.File, off, n int64) ([]byte, func(), error) {
	page := int64(os.Getpagesize())
	start := off &^ (page - 1)
	m, err := syscall.Mmap(int(f.Fd()), start, int(off-start+n), syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err == nil {
		return m[off-start:], func() { syscall.Munmap(m) }, nil
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, nil, err
	}
	return buf, func() {}, nil
}

// advance closes the current file (checking its size) and opens the next
// one. Zero-length files are opened too, so an unreadable one is caught.
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
	// Mapping past the end of a file faults, so a file that shrank since it
	// was listed is refused before it is mapped.
	return true, r.checkSize()
}

func (r *fileReader) checkSize() error {
	fi, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", r.cur.abs, err)
	}
	if fi.Size() != r.cur.length {
		return fmt.Errorf("%s changed size while hashing (%d bytes, listed as %d)", r.cur.abs, fi.Size(), r.cur.length)
	}
	return nil
}

func (r *fileReader) closeChecked() error {
	if r.f == nil {
		return nil
	}
	err := r.checkSize()
	r.close()
	return err
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
