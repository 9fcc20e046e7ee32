package scrub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// fill reads a batch's bytes file by file, recording per piece what could
// not be read.
func (s *scrubber) fill(ctx context.Context, b *batch) error {
	start, _ := s.t.pieceSpan(b.first)
	_, end := s.t.pieceSpan(b.first + b.n - 1)
	b.start = start
	b.probs = make([]Result, b.n)
	b.parts = make([][][]byte, b.n)
	for fi := s.fileAt(start); fi < len(s.t.Files) && s.t.Files[fi].Offset < end; fi++ {
		f := s.t.Files[fi]
		from, to := max(start, f.Offset), min(end, f.Offset+f.Length)
		if to <= from || (f.Pad && s.t.Hashes == nil) {
			continue // v2 hashes cover file data only: padding is not even zeroed
		}
		if err := s.o.Limiter.WaitN(ctx, int(to-from)); err != nil {
			return err
		}
		if f.Pad {
			s.need(b, end)
			clear(b.buf[from-b.start : to-b.start])
			s.split(b, from, b.buf[from-b.start:to-b.start])
			continue
		}
		s.prefetch(fi, to, end-start)
		if !s.mapSeg(b, fi, from, to) {
			s.need(b, end)
			s.readSeg(b, fi, from, to)
			s.split(b, from, b.buf[from-b.start:to-b.start])
		}
	}
	return nil
}

// need gives the batch a buffer for its bytes up to torrent byte end, the
// first time a part of it is read rather than mapped: a mapped batch needs
// none, and a batch of a small torrent needs its own size, not a whole
// block (a scrub of a 1 MiB torrent used to zero 8 MiB for nothing: with
// 1,000 of them, a third of a first start's CPU). A buffer handed back by
// an earlier batch is used again when it is large enough.
func (s *scrubber) need(b *batch, end int64) {
	if n := end - b.start; int64(cap(b.buf)) < n {
		b.buf = make([]byte, n)
	} else {
		b.buf = b.buf[:n]
	}
}

// prefetch starts the read of the block after torrent byte at in file fi.
func (s *scrubber) prefetch(fi int, at, n int64) {
	f := s.t.Files[fi]
	if r, err := s.file(fi); err == nil && at < f.Offset+f.Length {
		if p, ok := r.(prefetcher); ok {
			p.Prefetch(at-f.Offset, min(n, f.Offset+f.Length-at))
		}
	}
}

// mapSeg maps torrent bytes [from, to) of file fi, if the file can be.
func (s *scrubber) mapSeg(b *batch, fi int, from, to int64) bool {
	if !s.o.Map {
		return false
	}
	r, err := s.file(fi)
	m, ok := r.(Mapper)
	if err != nil || !ok {
		return false
	}
	data, release, err := m.Map(from-s.t.Files[fi].Offset, to-from)
	if err != nil {
		return false
	}
	b.release = append(b.release, release)
	b.mapped = true
	s.split(b, from, data)
	return true
}

// split hands data (torrent bytes from..) to the pieces it covers.
func (s *scrubber) split(b *batch, from int64, data []byte) {
	for len(data) > 0 {
		p := int(from / s.t.PieceLength)
		_, pe := s.t.pieceSpan(p)
		k := min(int64(len(data)), pe-from)
		b.parts[p-b.first] = append(b.parts[p-b.first], data[:k])
		data, from = data[k:], from+k
	}
}

// readSeg reads torrent bytes [from, to) of file fi into the batch. On a
// short or failed read it re-reads piece by piece so that only the pieces
// that really cannot be read are marked.
func (s *scrubber) readSeg(b *batch, fi int, from, to int64) {
	f := s.t.Files[fi]
	r, err := s.file(fi)
	if err != nil {
		s.mark(b, from, to, openKind(err), fi, from-f.Offset, fmt.Sprintf("open %s: %v", f.Path, err))
		return
	}
	// A short or failed read is read again piece by piece below, which
	// reports its own error.
	if n, _ := r.ReadAt(b.buf[from-b.start:to-b.start], from-f.Offset); int64(n) == to-from {
		return
	}
	for a := from; a < to; {
		_, pe := s.t.pieceSpan(int((a) / s.t.PieceLength))
		e := min(pe, to)
		n, err := r.ReadAt(b.buf[a-b.start:e-b.start], a-f.Offset)
		if int64(n) < e-a {
			at := a - f.Offset + int64(n)
			if err == nil || errors.Is(err, io.EOF) {
				s.mark(b, a, e, ShortFile, fi, at, fmt.Sprintf("%s ends at byte %d, torrent expects %d", f.Path, at, f.Length))
			} else {
				s.mark(b, a, e, IOError, fi, at, fmt.Sprintf("read %s at %d: %v", f.Path, at, err))
			}
		}
		a = e
	}
}

func openKind(err error) Kind {
	if errors.Is(err, fs.ErrNotExist) {
		return MissingFile
	}
	return IOError
}

// mark records a problem for every piece overlapping torrent bytes
// [from, to) that has none yet.
func (s *scrubber) mark(b *batch, from, to int64, k Kind, fi int, fileOff int64, detail string) {
	p0 := int(from / s.t.PieceLength)
	p1 := int((to - 1) / s.t.PieceLength)
	for p := max(p0, b.first); p <= p1 && p < b.first+b.n; p++ {
		if b.probs[p-b.first].Kind == "" {
			b.probs[p-b.first] = Result{Piece: p, Kind: k, File: s.t.Files[fi].Index, Path: s.t.Files[fi].Path, Offset: fileOff, Detail: detail}
		}
	}
}

// file returns file fi opened, keeping one file open at a time (reads are
// sequential, so a file is opened once per scrub).
func (s *scrubber) file(fi int) (Reader, error) {
	if fi == s.cur {
		return s.curR, s.curErr
	}
	s.closeCur()
	s.cur = fi
	s.curR, s.curErr = s.op.Open(s.t.Files[fi].Path)
	return s.curR, s.curErr
}

func (s *scrubber) closeCur() {
	if s.curR != nil {
		_ = s.curR.Close()
	}
	s.cur, s.curR, s.curErr = -1, nil, nil
}
