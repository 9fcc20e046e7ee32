package torrentfile

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type srcFile struct {
	abs    string   // path on disk
	parts  []string // path in the torrent
	length int64
}

// plan is what Create learned from the file system before hashing.
type plan struct {
	name        string
	single      bool
	files       []srcFile
	total       int64
	pieceLength int64
}

func planCreate(o CreateOptions) (*plan, error) {
	if o.Path == "" {
		return nil, errors.New("no path given")
	}
	root := filepath.Clean(o.Path)
	p := &plan{name: o.Name}
	if p.name == "" {
		abs, err := filepath.Abs(root) // so that "." is named after the directory
		if err != nil {
			return nil, err
		}
		p.name = filepath.Base(abs)
	}
	if err := checkName("name", p.name); err != nil {
		return nil, err
	}
	if err := checkURLs(o); err != nil {
		return nil, err
	}
	if err := p.collect(root); err != nil {
		return nil, err
	}
	if p.total == 0 {
		return nil, fmt.Errorf("%s has no data (total length 0)", root)
	}
	var err error
	p.pieceLength, err = pieceLengthFor(o.PieceLength, p.total)
	return p, err
}

// collect lists the files under root. It refuses, rather than skips, anything
// that is not a regular file or directory: a symlink's length and its
// target's content can disagree, and a silently skipped file is lost data.
func (p *plan) collect(root string) error {
	fi, err := os.Lstat(root)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		p.single = true
		p.files = []srcFile{{abs: root, parts: []string{p.name}, length: fi.Size()}}
		p.total = fi.Size()
		return nil
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a regular file or directory (%s)", root, fi.Mode().Type())
	}
	if err := filepath.WalkDir(root, p.visit(root)); err != nil {
		return err
	}
	if len(p.files) == 0 {
		return fmt.Errorf("%s contains no files", root)
	}
	// Sorted by '/'-joined path, as BuildFromFilePath and mktorrent do, so
	// the same tree always gives the same infohash.
	sort.Slice(p.files, func(i, j int) bool {
		return joinPath(p.files[i].parts) < joinPath(p.files[j].parts)
	})
	return nil
}

func (p *plan) visit(root string) fs.WalkDirFunc {
	return func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err // already names the path
		}
		if d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symlink (refused: its length and content could disagree)", path)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (%s)", path, d.Type())
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if err := checkPath(parts); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		p.files = append(p.files, srcFile{abs: path, parts: parts, length: fi.Size()})
		p.total += fi.Size()
		return nil
	}
}

func pieceLengthFor(override, total int64) (int64, error) {
	if override == 0 {
		return ChoosePieceLength(total), nil
	}
	if override < 16<<10 || override&(override-1) != 0 || override > maxPieceLength {
		return 0, fmt.Errorf("piece length %d is not a power of two between 16 KiB and %d MiB", override, maxPieceLength>>20)
	}
	return override, nil
}

func checkURLs(o CreateOptions) error {
	for _, s := range append(append([]string(nil), o.Trackers...), o.WebSeeds...) {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("URL %q is not absolute", s)
		}
	}
	return nil
}

// ChoosePieceLength picks a power-of-two piece length for total bytes:
// 256 KiB up to 512 MiB of data, then doubling to keep the piece count
// near 2048 (so the catalog's bitfields and the engine's piece state stay
// small), capped at 16 MiB (so one piece is cheap to re-hash and re-fetch).
func ChoosePieceLength(total int64) int64 {
	const minLen, maxLen, targetPieces = 256 << 10, 16 << 20, 2048
	pl := int64(minLen)
	for pl < maxLen && total/pl > targetPieces {
		pl <<= 1
	}
	return pl
}
