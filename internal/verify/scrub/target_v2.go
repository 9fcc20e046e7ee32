package scrub

import (
	"fmt"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/torrentfile"
)

// fromV2 builds the target of a v2-only or hybrid torrent. Pieces follow
// the engine's v2 layout: every file starts on a piece boundary and the
// gaps are padding (for a hybrid, exactly its BEP 47 padding files), so a
// piece index means the same piece to the scrubber, the engine and repair.
func fromV2(t catalog.Torrent, mi *metainfo.MetaInfo, info *metainfo.Info, cat []catalog.File) (*Target, error) {
	// Parse checks the file tree and the piece layers against the pieces
	// roots (and, for a hybrid, that v1 and v2 describe the same data), so
	// the hashes below are the torrent's and well formed.
	tf, err := torrentfile.Parse(t.Metainfo)
	if err != nil {
		return nil, fmt.Errorf("v2 metainfo: %w", err)
	}
	if err := sameFiles(tf.Files, cat); err != nil {
		return nil, err
	}
	tg := &Target{DataDir: t.DataDir, PieceLength: info.PieceLength}
	var off int64
	for _, f := range cat {
		if f.Offset > off {
			tg.Files = append(tg.Files, padFile(off, f.Offset-off))
		}
		tg.Files = append(tg.Files, File{Path: f.Path, Length: f.Length, Offset: f.Offset, Index: f.Index})
		off = f.Offset + f.Length
	}
	if tf.Info.HasV1() {
		// A hybrid may pad its last file to a piece boundary too.
		if total := v1Total(info); total > off {
			tg.Files = append(tg.Files, padFile(off, total-off))
			off = total
		}
		for i := 0; i+20 <= len(info.Pieces); i += 20 {
			tg.Hashes = append(tg.Hashes, [20]byte(info.Pieces[i:i+20]))
		}
	}
	tg.TotalLength = off
	if tg.V2, err = v2Pieces(info, mi.PieceLayers); err != nil {
		return nil, err
	}
	if err := tg.Validate(); err != nil {
		return nil, err
	}
	return tg, nil
}

// sameFiles checks that the catalog's rows are the v2 layout's files.
func sameFiles(want []torrentfile.File, cat []catalog.File) error {
	if len(cat) != len(want) {
		return fmt.Errorf("catalog has %d files, the v2 file tree %d", len(cat), len(want))
	}
	for i, w := range want {
		c := cat[i]
		if c.Path != w.Path || c.Length != w.Length || c.Offset != w.Offset {
			return fmt.Errorf("catalog file %d (%q, %d bytes at %d) is not the v2 file tree's (%q, %d bytes at %d)",
				i, c.Path, c.Length, c.Offset, w.Path, w.Length, w.Offset)
		}
	}
	return nil
}

// v2Pieces lists every v2 piece in the engine's order: per file (sorted
// file tree order, empty files have none), its piece-layer hashes, or its
// pieces root when the file fits in one piece.
func v2Pieces(info *metainfo.Info, layers map[string]string) ([]V2Piece, error) {
	pl := info.PieceLength
	var out []V2Piece
	for fi := range info.UpvertedFilesIter() {
		if fi.Length == 0 {
			continue
		}
		root := fi.PiecesRoot.Value
		if fi.Length <= pl {
			out = append(out, V2Piece{Hash: root, Len: fi.Length, Leaves: leavesFor(fi.Length), Root: true})
			continue
		}
		layer := layers[string(root[:])]
		n := (fi.Length + pl - 1) / pl
		if int64(len(layer)) != 32*n {
			return nil, fmt.Errorf("file %q: piece layer of %d bytes, want %d", fi.DisplayPath(info), len(layer), 32*n)
		}
		for i := range n {
			out = append(out, V2Piece{Hash: [32]byte([]byte(layer[32*i : 32*i+32])), Len: min(pl, fi.Length-i*pl), Leaves: int(pl / LeafSize)})
		}
	}
	return out, nil
}

// validateV2 checks the v2 pieces against the layout: one per piece, each
// inside its piece and one file, with a tree wide enough for its data.
func (t *Target) validateV2(want int64) error {
	if int64(len(t.V2)) != want {
		return fmt.Errorf("%d v2 piece hashes for %d bytes of %d-byte pieces (want %d)", len(t.V2), t.TotalLength, t.PieceLength, want)
	}
	if t.PieceLength%LeafSize != 0 {
		return fmt.Errorf("piece length %d is not a multiple of 16 KiB (required by BEP 52)", t.PieceLength)
	}
	for p, v := range t.V2 {
		ps, pe := t.pieceSpan(p)
		if v.Len <= 0 || v.Len > pe-ps || !isPow2(v.Leaves) || int64(v.Leaves)*LeafSize < v.Len {
			return fmt.Errorf("v2 piece %d: %d bytes in a tree of %d leaves does not fit the piece", p, v.Len, v.Leaves)
		}
		if fi := t.fileAt(ps); fi >= len(t.Files) || t.Files[fi].Pad || t.Files[fi].Offset+t.Files[fi].Length < ps+v.Len {
			return fmt.Errorf("v2 piece %d: its %d bytes are not in one file", p, v.Len)
		}
	}
	return nil
}

// fileAt returns the index of the file holding torrent byte off (skipping
// zero-length files).
func (t *Target) fileAt(off int64) int {
	fs := t.Files
	lo, hi := 0, len(fs)
	for lo < hi {
		m := (lo + hi) / 2
		if fs[m].Offset+fs[m].Length > off {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// v1Total is the length of a hybrid's v1 data, its padding files included.
func v1Total(info *metainfo.Info) int64 {
	var n int64
	for fi := range info.UpvertedV1Files() {
		n += fi.Length
	}
	return n
}
