package store

import (
	"errors"
	"fmt"
	"io"
)

// readAt reads b at torrent offset off from the torrent's files. A file
// that is missing or shorter than the catalog says ends the read with an
// error (io.ErrUnexpectedEOF for a short file).
func (s *Store) readAt(ts *torrentState, b []byte, off int64) (int, error) {
	n := 0
	for _, fe := range ts.filesOf(off, int64(len(b))) {
		start := off + int64(n) - fe.offset
		m := int(min(int64(len(b)-n), fe.length-start))
		got, err := s.readFile(ts, fe, b[n:n+m], start)
		n += got
		s.bytesRead.Add(int64(got))
		if err != nil {
			return n, fmt.Errorf("seeder store: read %s of %s at %d: %w", fe.rel, ts.name, start+int64(got), err)
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

// writeAt writes b at torrent offset off into the torrent's files.
func (s *Store) writeAt(ts *torrentState, b []byte, off int64) (int, error) {
	n := 0
	for _, fe := range ts.filesOf(off, int64(len(b))) {
		start := off + int64(n) - fe.offset
		m := int(min(int64(len(b)-n), fe.length-start))
		got, err := s.writeFile(ts, fe, b[n:n+m], start)
		n += got
		s.bytesWritten.Add(int64(got))
		if err != nil {
			return n, fmt.Errorf("seeder store: write %s of %s at %d: %w", fe.rel, ts.name, start+int64(got), err)
		}
	}
	if n < len(b) {
		return n, fmt.Errorf("seeder store: write %s at %d: %w", ts.name, off+int64(n), io.ErrShortWrite)
	}
	return n, nil
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
	for _, fe := range ts.files {
		if fe.length != 0 {
			continue
		}
		f, created, err := openFile(ts.dataDir, fe.parts, true)
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
