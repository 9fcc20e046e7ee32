// Package scrub reads a torrent's data files itself, sequentially in large
// blocks, and checks piece hashes on all cores. It knows nothing of the
// catalog's tables: it takes a Target and a piece range and returns what
// it found, piece by piece.
package scrub

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/torrentfile"
)

// File is one data file of a target, in torrent order.
type File struct {
	Path   string // '/'-separated, relative to the data dir
	Length int64
	Offset int64 // within the torrent's concatenated data
	// Pad marks a BEP 47 padding file (or the gap before a piece-aligned
	// v2 file): zeros by definition, never on disk.
	Pad bool
	// Index is the file's index in the catalog (what findings report);
	// -1 for a padding file the catalog does not list.
	Index int
}

// Target is what a scrub checks: files under DataDir and the piece hashes,
// v1 (SHA-1), v2 (BEP 52 SHA-256 merkle) or both for a hybrid torrent,
// where a piece is good only if both match.
type Target struct {
	DataDir     string
	Files       []File
	PieceLength int64
	TotalLength int64
	Hashes      [][20]byte // v1 piece hashes; nil for a v2-only torrent
	V2          []V2Piece  // v2 pieces in the engine's numbering; nil for v1
}

// NumPieces is the number of pieces of the target.
func (t *Target) NumPieces() int {
	if t.Hashes == nil {
		return len(t.V2)
	}
	return len(t.Hashes)
}

// pieceSpan returns the byte range [start, end) of piece p.
func (t *Target) pieceSpan(p int) (int64, int64) {
	start := int64(p) * t.PieceLength
	return start, min(start+t.PieceLength, t.TotalLength)
}

// FromTorrent builds a target from a catalog torrent and its files, and
// checks that the catalog rows agree with the metainfo.
func FromTorrent(t catalog.Torrent, files []catalog.File) (*Target, error) {
	if t.Metainfo == nil {
		return nil, fmt.Errorf("scrub: torrent %d: metainfo not fetched yet", t.ID)
	}
	mi, info, err := torrentfile.Decode(t.Metainfo)
	if err != nil {
		return nil, fmt.Errorf("scrub: torrent %d: %w", t.ID, err)
	}
	if info.HasV2() {
		tg, err := fromV2(t, mi, &info, files)
		if err != nil {
			return nil, fmt.Errorf("scrub: torrent %d: %w", t.ID, err)
		}
		return tg, nil
	}
	tg := &Target{DataDir: t.DataDir, PieceLength: info.PieceLength, TotalLength: info.TotalLength()}
	for i := 0; i+20 <= len(info.Pieces); i += 20 {
		tg.Hashes = append(tg.Hashes, [20]byte(info.Pieces[i:i+20]))
	}
	tg.Files = withPads(info.UpvertedFiles(), files)
	if err := tg.Validate(); err != nil {
		return nil, fmt.Errorf("scrub: torrent %d: %w", t.ID, err)
	}
	return tg, nil
}

// withPads returns the catalog's files with BEP 47 padding files marked
// (when the catalog lists them) or put back in their place (when it left
// them out), taking the padding from the info.
func withPads(info []metainfo.FileInfo, cat []catalog.File) []File {
	isPad := func(fi metainfo.FileInfo) bool { return strings.Contains(fi.Attr, "p") }
	var out []File
	var off int64
	j := 0
	for _, fi := range info {
		pad := isPad(fi)
		switch {
		case len(cat) == len(info):
			c := cat[j]
			j++
			out = append(out, File{Path: c.Path, Length: c.Length, Offset: c.Offset, Pad: pad, Index: c.Index})
		case pad:
			out = append(out, padFile(off, fi.Length))
		case j < len(cat):
			c := cat[j]
			j++
			out = append(out, File{Path: c.Path, Length: c.Length, Offset: c.Offset, Index: c.Index})
		}
		off += fi.Length
	}
	for ; j < len(cat); j++ { // more catalog files than the info has: let Validate say so
		out = append(out, File{Path: cat[j].Path, Length: cat[j].Length, Offset: cat[j].Offset, Index: cat[j].Index})
	}
	return out
}

// Validate checks the layout: piece count matches the length, files are
// contiguous and their paths stay inside the data dir.
func (t *Target) Validate() error {
	if t.PieceLength <= 0 {
		return fmt.Errorf("piece length %d is not positive", t.PieceLength)
	}
	want := (t.TotalLength + t.PieceLength - 1) / t.PieceLength
	if t.Hashes == nil && t.V2 == nil {
		return errors.New("no piece hashes (neither v1 nor v2)")
	}
	if t.Hashes != nil && int64(len(t.Hashes)) != want {
		return fmt.Errorf("%d piece hashes for %d bytes of %d-byte pieces (want %d)", len(t.Hashes), t.TotalLength, t.PieceLength, want)
	}
	if t.V2 != nil {
		if err := t.validateV2(want); err != nil {
			return err
		}
	}
	var off int64
	for i, f := range t.Files {
		if f.Offset != off {
			return fmt.Errorf("file %d (%s) at offset %d, want %d", i, f.Path, f.Offset, off)
		}
		if _, err := datadir.SplitPath(f.Path); err != nil {
			return fmt.Errorf("file %d: %w", i, err)
		}
		off += f.Length
	}
	if off != t.TotalLength {
		return fmt.Errorf("files add up to %d bytes, torrent has %d", off, t.TotalLength)
	}
	return nil
}

// padFile is a padding file the catalog does not list.
func padFile(off, n int64) File {
	return File{Path: ".pad/" + strconv.FormatInt(n, 10), Length: n, Offset: off, Pad: true, Index: -1}
}

var errRange = errors.New("piece range out of bounds")
