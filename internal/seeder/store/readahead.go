package store

import "golang.org/x/sys/unix"

// readAhead asks the kernel to read the whole piece [off, off+n) of the
// torrent into the page cache now (POSIX_FADV_WILLNEED), when a peer asks
// for its first block: the engine then serves the piece's other blocks
// (16 KiB requests, one at a time per connection) from memory instead of
// waiting for the disk on each. Advisory: errors are ignored, and a file
// not yet open is opened as for a read.
func (s *Store) readAhead(ts *torrentState, off, n int64) {
	for _, e := range ts.extents(off, n) {
		if e.fe == nil {
			continue
		}
		h, _, err := s.files.get(ts, e.fe, false)
		if err != nil {
			return
		}
		_ = unix.Fadvise(int(h.f.Fd()), e.at, e.n, unix.FADV_WILLNEED)
		s.files.release(h)
	}
}
