package torrentfile

import (
	"errors"
	"fmt"
	"math"

	"github.com/anacrolix/torrent/metainfo"
)

// maxPieceLength bounds what Parse accepts. BEP 3 sets no limit, but the
// engine holds whole pieces in memory while hashing them, so an absurd piece
// length in an imported file is a denial of service, not a real torrent.
const maxPieceLength = 512 << 20

// layout is what validation learns about a torrent's data.
type layout struct {
	v1         bool // the info has v1 fields (v1-only or hybrid)
	files      []File
	pieceCount int
	total      int64
}

func validateInfo(mi *metainfo.MetaInfo, info *metainfo.Info) (layout, error) {
	keys, err := infoKeys(mi.InfoBytes)
	if err != nil {
		return layout{}, err
	}
	if err := checkNames(keys, info); err != nil {
		return layout{}, err
	}
	if err := checkPieceLength(keys, info); err != nil {
		return layout{}, err
	}
	if keys["meta version"] && info.MetaVersion != 2 {
		return layout{}, fmt.Errorf("meta version %d is not supported (only 2, BEP 52)", info.MetaVersion)
	}
	l, err := validateVersions(mi, keys, info)
	if err != nil {
		return layout{}, err
	}
	if err := checkAliases(l.files); err != nil {
		return layout{}, err
	}
	if l.total == 0 {
		return layout{}, errors.New("torrent has no data (total length 0)")
	}
	return l, nil
}

// validateVersions checks the v1 fields, the v2 fields, or both (hybrid),
// and returns the layout the engine will use: v2's when present.
func validateVersions(mi *metainfo.MetaInfo, keys map[string]bool, info *metainfo.Info) (layout, error) {
	v2 := info.MetaVersion == 2
	v1 := keys["pieces"] || !v2
	var l1, l2 layout
	var err error
	if v1 {
		if l1, err = validateV1(keys, info); err != nil {
			return layout{}, err
		}
	}
	if !v2 {
		return l1, nil
	}
	if l2, err = validateV2(mi, keys, info); err != nil {
		return layout{}, err
	}
	if v1 {
		if err := compareHybrid(info, l1, l2); err != nil {
			return layout{}, err
		}
	}
	l2.v1 = v1
	return l2, nil
}

func checkPieceLength(keys map[string]bool, info *metainfo.Info) error {
	switch {
	case !keys["piece length"]:
		return errors.New("info has no piece length")
	case info.PieceLength <= 0:
		return fmt.Errorf("piece length %d is not positive", info.PieceLength)
	case info.PieceLength > maxPieceLength:
		return fmt.Errorf("piece length %d exceeds the %d MiB limit", info.PieceLength, maxPieceLength>>20)
	}
	return nil
}

func checkNames(keys map[string]bool, info *metainfo.Info) error {
	if !keys["name"] {
		return errors.New("info has no name")
	}
	if err := checkName("name", info.Name); err != nil {
		return err
	}
	if keys["name.utf-8"] {
		return checkName("name.utf-8", info.NameUtf8)
	}
	return nil
}

// checkName refuses a torrent name that would not be a single path component.
func checkName(field, name string) error {
	if err := checkComponent(name); err != nil {
		return fmt.Errorf("%s %q %s", field, name, err)
	}
	return nil
}

// validateV1 checks the BEP 3 fields: exactly one of length and files, sane
// lengths and paths, and a pieces string with exactly one hash per piece.
func validateV1(keys map[string]bool, info *metainfo.Info) (layout, error) {
	if !keys["pieces"] {
		return layout{}, errors.New("info has no pieces")
	}
	if len(info.Pieces)%20 != 0 {
		return layout{}, fmt.Errorf("pieces length %d is not a multiple of 20", len(info.Pieces))
	}
	files, total, err := v1Files(keys, info)
	if err != nil {
		return layout{}, err
	}
	want := ceilDiv(total, info.PieceLength)
	if got := int64(len(info.Pieces) / 20); got != want {
		return layout{}, fmt.Errorf("pieces has %d hashes but total length %d with piece length %d needs %d", got, total, info.PieceLength, want)
	}
	return layout{v1: true, files: files, pieceCount: int(want), total: total}, nil
}

func v1Files(keys map[string]bool, info *metainfo.Info) ([]File, int64, error) {
	switch {
	case keys["length"] && keys["files"]:
		return nil, 0, errors.New("info has both length and files")
	case keys["length"]:
		if info.Length < 0 {
			return nil, 0, fmt.Errorf("length %d is negative", info.Length)
		}
		return []File{{Path: info.BestName(), Length: info.Length}}, info.Length, nil
	case keys["files"]:
		return v1MultiFiles(info)
	}
	return nil, 0, errors.New("info has neither length nor files")
}

func v1MultiFiles(info *metainfo.Info) ([]File, int64, error) {
	if len(info.Files) == 0 {
		return nil, 0, errors.New("files list is empty")
	}
	files := make([]File, 0, len(info.Files))
	var off int64
	for i, fi := range info.Files {
		if err := checkPath(fi.Path); err != nil {
			return nil, 0, err
		}
		if fi.PathUtf8 != nil {
			if err := checkPath(fi.PathUtf8); err != nil {
				return nil, 0, fmt.Errorf("path.utf-8: %w", err)
			}
		}
		if fi.Length < 0 {
			return nil, 0, fmt.Errorf("file %q has negative length %d", joinPath(fi.Path), fi.Length)
		}
		if off > math.MaxInt64-fi.Length {
			return nil, 0, errors.New("total length overflows")
		}
		files = append(files, File{Index: i, Path: joinPath(fi.BestPath()), Length: fi.Length, Offset: off})
		off += fi.Length
	}
	return files, off, nil
}

// ceilDiv is ceil(a/b) for a >= 0, b > 0, without overflow.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}
