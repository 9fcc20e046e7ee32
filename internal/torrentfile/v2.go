package torrentfile

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/anacrolix/torrent/metainfo"
)

// validateV2 checks the BEP 52 fields before any library helper touches them:
// some of those helpers panic on a pieces root that is not 32 bytes.
func validateV2(mi *metainfo.MetaInfo, keys map[string]bool, info *metainfo.Info) (layout, error) {
	pl := info.PieceLength
	if pl < 16<<10 || pl&(pl-1) != 0 {
		return layout{}, fmt.Errorf("piece length %d is not a power of two >= 16 KiB (required by BEP 52)", pl)
	}
	if !keys["file tree"] || !info.FileTree.IsDir() {
		return layout{}, errors.New("v2 info has no file tree")
	}
	if info.FileTree.File != (metainfo.FileTreeFile{}) {
		return layout{}, errors.New("file tree root is a file")
	}
	w := treeWalker{pl: pl}
	if err := w.walk(&info.FileTree, nil); err != nil {
		return layout{}, err
	}
	if err := checkPieceLayers(mi.PieceLayers, w.files, pl); err != nil {
		return layout{}, err
	}
	if err := metainfo.ValidatePieceLayers(mi.PieceLayers, &info.FileTree, pl); err != nil {
		return layout{}, fmt.Errorf("piece layers: %s", oneLine(err.Error()))
	}
	files := make([]File, len(w.files))
	for i, f := range w.files {
		files[i] = f.File
		files[i].Index = i
	}
	return layout{files: files, pieceCount: w.pieces, total: w.total}, nil
}

type v2File struct {
	File
	root string
}

// treeWalker flattens a v2 file tree in the engine's order (sorted keys) and
// with the engine's offsets (each file starts on a piece boundary).
type treeWalker struct {
	pl     int64
	files  []v2File
	off    int64
	total  int64
	pieces int
}

func (w *treeWalker) walk(ft *metainfo.FileTree, path []string) error {
	for _, key := range slices.Sorted(maps.Keys(ft.Dir)) {
		if key == metainfo.FileTreePropertiesKey {
			continue
		}
		p := append(slices.Clone(path), key)
		if err := checkPath(p); err != nil {
			return err
		}
		sub := ft.Dir[key]
		if !sub.IsDir() {
			if err := w.addFile(p, sub.File); err != nil {
				return err
			}
			continue
		}
		if sub.File != (metainfo.FileTreeFile{}) {
			return fmt.Errorf("file tree entry %q is both a file and a directory", joinPath(p))
		}
		if err := w.walk(&sub, p); err != nil {
			return err
		}
	}
	return nil
}

func (w *treeWalker) addFile(p []string, f metainfo.FileTreeFile) error {
	name := joinPath(p)
	switch {
	case f.Length < 0:
		return fmt.Errorf("file %q has negative length %d", name, f.Length)
	case f.Length > 0 && len(f.PiecesRoot) != 32:
		return fmt.Errorf("file %q has a pieces root of %d bytes, want 32", name, len(f.PiecesRoot))
	case f.Length == 0 && f.PiecesRoot != "":
		return fmt.Errorf("empty file %q has a pieces root", name)
	}
	n := ceilDiv(f.Length, w.pl)
	if n > (math.MaxInt64-w.off)/w.pl || n > math.MaxInt32-int64(w.pieces) {
		return errors.New("total length overflows")
	}
	w.files = append(w.files, v2File{File{Path: name, Length: f.Length, Offset: w.off}, f.PiecesRoot})
	w.off += n * w.pl
	w.total += f.Length
	w.pieces += int(n)
	return nil
}

// checkPieceLayers makes sure every layer has one 32-byte hash per piece of
// its file, so the library's merkle check sees well-formed input.
func checkPieceLayers(layers map[string]string, files []v2File, pl int64) error {
	for _, f := range files {
		layer, ok := layers[f.root]
		if f.root == "" || !ok {
			continue
		}
		if want := ceilDiv(f.Length, pl) * 32; int64(len(layer)) != want {
			return fmt.Errorf("piece layer of file %q has %d bytes, want %d", f.Path, len(layer), want)
		}
	}
	return nil
}

// compareHybrid refuses a hybrid torrent whose v1 and v2 halves describe
// different data: v1 clients and v2 clients would then disagree on content.
func compareHybrid(info *metainfo.Info, l1, l2 layout) error {
	var v1 []File
	for i, f := range l1.files {
		if i < len(info.Files) && strings.Contains(info.Files[i].Attr, "p") {
			continue // BEP 47 padding file: implicit in v2
		}
		v1 = append(v1, f)
	}
	if len(v1) != len(l2.files) {
		return fmt.Errorf("hybrid torrent: v1 has %d files, v2 file tree has %d", len(v1), len(l2.files))
	}
	for i := range v1 {
		a, b := v1[i], l2.files[i]
		if a.Path != b.Path || a.Length != b.Length || a.Offset != b.Offset {
			return fmt.Errorf("hybrid torrent: v1 file %q (length %d at %d) differs from v2 file %q (length %d at %d)", a.Path, a.Length, a.Offset, b.Path, b.Length, b.Offset)
		}
	}
	if l1.pieceCount != l2.pieceCount {
		return fmt.Errorf("hybrid torrent: v1 has %d pieces, v2 has %d", l1.pieceCount, l2.pieceCount)
	}
	return nil
}
