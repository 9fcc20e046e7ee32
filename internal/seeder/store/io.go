package store

import (
	"errors"
	"fmt"
	"io"

	"github.com/archivd/archivd/internal/datadir"
)

// readAt reads b at torrent offset off from the torrent's files; the
// padding between piece-aligned files reads as zeros. A file that is
// missing or shorter than the catalog says ends the read with an error
// (io.ErrUnexpectedEOF for a short file).
func (s *Store) readAt(ts *torrentState, b []byte, off int64) (int, error) {
	n := 0
	for _, e := range ts.extents(off, int64(len(b))) {
		if e.fe == nil {
			clear(b[n : n+int(e.n)])
			n += int(e.n)
			continue
		}
		got, err := s.readFile(ts, e.fe, b[n:n+int(e.n)], e.at)
		n += got
		s.bytesRead.Add(int64(got))
		if err != nil {
			return n, fmt.Errorf("seeder store: read %s of %s at %d: %w", e.fe.rel, ts.name, e.at+int64(got), err)
		}
	}
	if n < len(b) {
		return n, fmt.Errorf("seeder store: read %s at %d: %w", ts.name, off+int64(n), io.ErrUnexpectedEOF)
	}
	return n, nil
}

func (s *Store) readFile(ts *torrentState, fe *fileEntry, b []byte, off int64) (int, error) {
	h, _, err := s.files.get(ts, fe, false)
	if err != nil {
		return 0, err
	}
	defer s.files.release(h)
	n, err := h.f.ReadAt(b, off)
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("file is shorter than %d bytes: %w", fe.length, io.ErrUnexpectedEOF)
	}
	return n, err
}

// writeAt writes b at torrent offset off into the torrent's files. Bytes
// that fall in the padding between piece-aligned files must be zeros and
// are not stored; if any is not, nothing is written (ErrPadData).
func (s *Store) writeAt(ts *torrentState, b []byte, off int64) (int, error) {
	exts := ts.extents(off, int64(len(b)))
	if err := checkPadding(ts, exts, b, off); err != nil {
		return 0, err
	}
	n := 0
	for _, e := range exts {
		if e.fe == nil {
			n += int(e.n)
			continue
		}
		got, err := s.writeFile(ts, e.fe, b[n:n+int(e.n)], e.at)
		n += got
		s.bytesWritten.Add(int64(got))
		if err != nil {
			return n, fmt.Errorf("seeder store: write %s of %s at %d: %w", e.fe.rel, ts.name, e.at+int64(got), err)
		}
	}
	if n < len(b) {
		return n, fmt.Errorf("seeder store: write %s at %d: %w", ts.name, off+int64(n), io.ErrShortWrite)
	}
	return n, nil
}

// checkPadding refuses a write whose padding bytes are not all zeros.
func checkPadding(ts *torrentState, exts []extent, b []byte, off int64) error {
	n := 0
	for _, e := range exts {
		if e.fe == nil && !allZero(b[n:n+int(e.n)]) {
			return fmt.Errorf("seeder store: write %s at %d: %w (bytes %d-%d are BEP 47 padding: the piece is bad)",
				ts.name, off, ErrPadData, off+int64(n), off+int64(n)+e.n-1)
		}
		n += int(e.n)
	}
	return nil
}

func (s *Store) writeFile(ts *torrentState, fe *fileEntry, b []byte, off int64) (int, error) {
	h, created, err := s.files.get(ts, fe, true)
	if err != nil {
		return 0, err
	}
	defer s.files.release(h)
	if len(created) > 0 {
		s.dirDirty(created)
	}
	return h.f.WriteAt(b, off)
}

// createEmptyFiles creates the torrent's zero-length files, which no
// piece write would ever create.
func (s *Store) createEmptyFiles(ts *torrentState) error {
	for i := range ts.files {
		fe := &ts.files[i]
		if fe.length != 0 {
			continue
		}
		f, created, err := openIn(ts, fe.rel, datadir.CreateInside)
		if err != nil {
			return fmt.Errorf("create empty file %s: %w", fe.rel, err)
		}
		f.Close()
		s.dirDirty(created)
	}
	return nil
}

// dirDirty remembers directories whose new entries must be made durable
// before a piece in them is recorded complete.
func (s *Store) dirDirty(dirs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range dirs {
		s.dirtyDirs[d] = struct{}{}
	}
}
