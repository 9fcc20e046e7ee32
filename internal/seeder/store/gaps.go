package store

import "errors"

// ErrPadData is returned (wrapped) by a write that puts non-zero bytes in
// the gap between two piece-aligned files: that gap is BEP 47 padding,
// zeros by definition, so the piece being written is bad.
var ErrPadData = errors.New("non-zero data in the padding between files")

// extent is one stretch of a byte range of the torrent: inside a file
// (fe, at the file offset at), or in the padding between piece-aligned
// files (fe nil), which reads as zeros and is never stored.
type extent struct {
	fe *fileEntry
	at int64
	n  int64
}

// extents splits the range [off, off+n) into file and padding extents. It
// stops where the last file ends: a shorter cover means the range runs
// past the torrent's data.
func (ts *torrentState) extents(off, n int64) []extent {
	end := min(off+n, ts.end)
	var out []extent
	pos := off
	for _, fe := range ts.filesOf(off, n) {
		if pos >= end {
			break
		}
		if fe.offset > pos {
			gap := min(fe.offset, end) - pos
			out = append(out, extent{n: gap})
			pos += gap
			if pos >= end {
				break
			}
		}
		m := min(end, fe.offset+fe.length) - pos
		out = append(out, extent{fe: fe, at: pos - fe.offset, n: m})
		pos += m
	}
	if pos < end {
		out = append(out, extent{n: end - pos})
	}
	return out
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
