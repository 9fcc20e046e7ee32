package store

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

// Adopt takes the pieces of a registered torrent that must be hashed
// before they are trusted (never recorded, and, with notComplete, also
// those recorded not complete) out of the engine's hands: until Adopted
// records each one's result, the engine is told they are not complete,
// so it neither hashes them itself nor (without a download priority)
// fetches them. Call it after Register and before the engine gets the
// torrent's info; the caller hashes the pieces (archivd's scrubber) and
// reports every one to Adopted, or calls Abandon.
func (s *Store) Adopt(infohash [20]byte, notComplete bool) []int {
	ts := s.torrent(infohash)
	if ts == nil {
		return nil
	}
	var data []span
	if notComplete {
		data = s.dataSpans(ts)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []int
	for p := range ts.n {
		if !ts.known.Get(p) || (notComplete && !ts.complete.Get(p) && ts.hasData(data, p)) {
			ts.adopting.Set(p, true)
			out = append(out, p)
		}
	}
	return out
}

// span is a stretch [from, to) of the torrent's bytes.
type span struct{ from, to int64 }

// dataSpans lists where the torrent's files hold data, in torrent
// offsets, skipping holes (SEEK_DATA/SEEK_HOLE): a piece recorded not
// complete that lies in holes only was never written, and is not worth
// hashing. A file system without hole support reports all data.
func (s *Store) dataSpans(ts *torrentState) []span {
	var out []span
	for i := range ts.files {
		fe := &ts.files[i]
		if fe.length == 0 {
			continue
		}
		h, _, err := s.files.get(ts, fe, false)
		if err != nil {
			continue // missing: no data
		}
		for _, sp := range fileData(int(h.f.Fd()), fe.length) {
			out = append(out, span{fe.offset + sp.from, fe.offset + sp.to})
		}
		s.files.release(h)
	}
	return out
}

// fileData lists the data extents of an open file up to length.
func fileData(fd int, length int64) []span {
	var out []span
	for off := int64(0); off < length; {
		from, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if err != nil || from >= length {
			break // ENXIO: only a hole remains
		}
		to, err := unix.Seek(fd, from, unix.SEEK_HOLE)
		if err != nil || to > length {
			to = length
		}
		out = append(out, span{from, to})
		off = to
	}
	return out
}

// hasData reports whether piece p overlaps one of the data spans.
func (ts *torrentState) hasData(data []span, p int) bool {
	from := int64(p) * ts.pieceLen
	to := from + ts.pieceLen
	i := sort.Search(len(data), func(i int) bool { return data[i].to > from })
	return i < len(data) && data[i].from < to
}

// Adopted records the result of hashing an adopted piece: good pieces are
// recorded complete at the next group commit (after their files are
// synced), bad ones not complete (and fetched once the caller gives the
// torrent a download priority). Tell the engine afterwards
// (Piece.UpdateCompletion).
func (s *Store) Adopted(ctx context.Context, infohash [20]byte, piece int, good bool) error {
	ts := s.torrent(infohash)
	if ts == nil || piece < 0 || piece >= ts.n {
		return fmt.Errorf("seeder store: adopted piece %d of %x: torrent not registered or no such piece", piece, infohash)
	}
	ts.mu.Lock()
	was := ts.adopting.Get(piece)
	ts.adopting.Set(piece, false)
	ts.mu.Unlock()
	if !was {
		return nil
	}
	if good {
		return s.markComplete(ts, piece)
	}
	return s.markNotComplete(ctx, ts, []int{piece}, false)
}

// Abandon gives the pieces still adopted back to the engine as they were
// (a cancelled adoption): unknown ones are hashed by the engine.
func (s *Store) Abandon(infohash [20]byte) {
	ts := s.torrent(infohash)
	if ts == nil {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	clear(ts.adopting)
}
