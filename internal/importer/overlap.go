package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
)

// ErrOverlap is wrapped when a new torrent's files would overlap another's.
var ErrOverlap = errors.New("would overlap")

// CheckOverlap refuses a torrent already in the catalog or whose files
// would overlap those of a catalog torrent: the same file, a file where the
// other has a directory, or a data directory inside (or equal to) one
// owned by a multi-file torrent. Paths are compared after resolving
// symlinks, so two routes to the same directory are caught.
func CheckOverlap(ctx context.Context, db *catalog.DB, nt catalog.NewTorrent) error {
	ix, err := LoadIndex(ctx, db)
	if err != nil {
		return err
	}
	return ix.Check(ctx, db, nt)
}

// ownsDir: every torrent but a single-file one (whose file, named like the
// torrent, lies in a directory it shares) owns its data directory.
func ownsDir(name string, files []catalog.File) bool {
	return !(len(files) == 1 && files[0].Path == name)
}

func absPaths(dir string, files []catalog.File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Join(dir, filepath.FromSlash(f.Path))
	}
	return out
}

// clash finds a path of a that equals a path of b or is a directory of one.
func clash(a, b []string) (string, bool) {
	set := map[string]bool{}
	for _, p := range b {
		for q := p; q != filepath.Dir(q); q = filepath.Dir(q) {
			set[q] = true
		}
	}
	bset := map[string]bool{}
	for _, p := range b {
		bset[p] = true
	}
	for _, p := range a {
		if set[p] {
			return p, true
		}
		for q := filepath.Dir(p); q != filepath.Dir(q); q = filepath.Dir(q) {
			if bset[q] {
				return p, true
			}
		}
	}
	return "", false
}

// within reports whether p is dir or lies below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// realPath resolves symlinks in the longest existing prefix of p.
func realPath(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for cur := p; ; cur = filepath.Dir(cur) {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		} else if _, lerr := os.Lstat(cur); lerr == nil {
			return p // exists but unresolvable (loop): compare as given
		}
		if cur == filepath.Dir(cur) {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
	}
}
