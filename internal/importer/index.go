package importer

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/archivd/archivd/internal/catalog"
)

// Index holds the placements of the catalog's torrents, indexed by
// infohash and by data directory (symlinks resolved), so that checking a
// new torrent for overlaps looks at the few torrents whose directories
// contain or lie in its own, not at every torrent: importing N torrents
// costs O(N) path lookups, not O(N^2). It is valid while the caller holds
// the import lock.
type Index struct {
	ps     []indexed
	byHash map[[20]byte]int
	byDir  map[string][]int // real data directory -> placements there
	below  map[string][]int // directory -> placements strictly below it
	// The one file of each single-file torrent (which shares its
	// directory), and every directory above such a file: checked by
	// lookup, so that many single-file torrents in one directory do not
	// make each check load and compare all their files.
	single      map[string]int
	singleAbove map[string]int
}

type indexed struct {
	catalog.Placement
	real string // DataDir with symlinks resolved
	// pending: checked and queued for the catalog, not in it yet (no ID,
	// its files not readable there).
	pending bool
	// gone: a pending torrent that did not reach the catalog (Forget).
	gone bool
}

// LoadIndex reads every placement of the catalog in one query.
func LoadIndex(ctx context.Context, db *catalog.DB) (*Index, error) {
	ps, err := db.Placements(ctx)
	if err != nil {
		return nil, err
	}
	return newIndex(ps), nil
}

// newIndex indexes placements ps.
func newIndex(ps []catalog.Placement) *Index {
	ix := &Index{byHash: make(map[[20]byte]int, len(ps)), byDir: make(map[string][]int, len(ps)), below: map[string][]int{},
		single: map[string]int{}, singleAbove: map[string]int{}}
	for _, p := range ps {
		ix.Add(p)
	}
	return ix
}

// Add indexes a placement (a torrent just added to the catalog).
func (ix *Index) Add(p catalog.Placement) {
	i := len(ix.ps)
	if p.DataDir == "" { // placed on this node, its directory not chosen yet
		ix.ps = append(ix.ps, indexed{Placement: p})
		ix.byHash[p.InfoHash] = i
		return
	}
	real := realPath(p.DataDir)
	ix.ps = append(ix.ps, indexed{Placement: p, real: real})
	ix.byHash[p.InfoHash] = i
	ix.byDir[real] = append(ix.byDir[real], i)
	for d := filepath.Dir(real); ; d = filepath.Dir(d) {
		ix.below[d] = append(ix.below[d], i)
		if d == filepath.Dir(d) {
			break
		}
	}
	if !p.OwnsDir {
		f := filepath.Join(real, filepath.FromSlash(p.Name))
		ix.single[f] = i
		for d := filepath.Dir(f); ; d = filepath.Dir(d) {
			ix.singleAbove[d] = i
			if d == filepath.Dir(d) {
				break
			}
		}
	}
}

// AddPending indexes a torrent checked and queued for the catalog: the
// checks of the torrents after it see it, and RelatedPending says when
// one of them needs it in the catalog first.
func (ix *Index) AddPending(nt catalog.NewTorrent) {
	ix.Add(catalog.Placement{Name: nt.Name, Collection: nt.Collection, InfoHash: nt.InfoHash, DataDir: nt.DataDir,
		OwnsDir: ownsDir(nt.Name, nt.Files)})
	ix.ps[len(ix.ps)-1].pending = true
}

// Placed records the id of a pending torrent now in the catalog.
func (ix *Index) Placed(infoHash [20]byte, id int64) {
	if i, ok := ix.byHash[infoHash]; ok {
		ix.ps[i].ID, ix.ps[i].pending = id, false
	}
}

// Forget drops a pending torrent that did not reach the catalog from the
// checks (its infohash and single file; the directory maps keep an entry
// that RelatedPending no longer counts and checkFiles skips). A directory
// above its single file that named it names another single-file torrent
// below it, if one is left: singleAbove keeps one torrent a directory,
// and the one forgotten must not hide the others.
func (ix *Index) Forget(infoHash [20]byte) {
	i, ok := ix.byHash[infoHash]
	if !ok || !ix.ps[i].pending {
		return
	}
	delete(ix.byHash, infoHash)
	ix.ps[i].gone = true
	ix.ps[i].pending = false
	p := ix.ps[i]
	if p.real == "" || p.OwnsDir {
		return
	}
	f := filepath.Join(p.real, filepath.FromSlash(p.Name))
	if ix.single[f] == i {
		delete(ix.single, f)
	}
	for d := filepath.Dir(f); ; d = filepath.Dir(d) {
		if j, ok := ix.singleAbove[d]; ok && j == i {
			if k, ok := ix.liveSingleBelow(d); ok {
				ix.singleAbove[d] = k
			} else {
				delete(ix.singleAbove, d)
			}
		}
		if d == filepath.Dir(d) {
			break
		}
	}
}

// liveSingleBelow finds a single-file torrent, not forgotten, whose file
// lies below directory d. It reads every placement: Forget, its one
// caller, runs only when a batch and then the torrent alone failed.
func (ix *Index) liveSingleBelow(d string) (int, bool) {
	for j := len(ix.ps) - 1; j >= 0; j-- {
		q := ix.ps[j]
		if q.gone || q.OwnsDir || q.real == "" {
			continue
		}
		if within(filepath.Join(q.real, filepath.FromSlash(q.Name)), d) {
			return j, true
		}
	}
	return 0, false
}

// RelatedPending reports whether the check of a torrent with data
// directory dir would read the files of a pending torrent from the
// catalog, where they are not yet.
func (ix *Index) RelatedPending(dir string) bool {
	for _, i := range ix.related(realPath(dir)) {
		if ix.ps[i].pending && ix.ps[i].OwnsDir {
			return true
		}
	}
	return false
}

// singleClash finds a new file that is the file of a single-file torrent,
// lies below it (uses it as a directory) or is a directory of it.
func (ix *Index) singleClash(newPaths []string) (string, indexed, bool) {
	for _, np := range newPaths {
		if i, ok := ix.single[np]; ok && !ix.ps[i].gone {
			return np, ix.ps[i], true
		}
		if i, ok := ix.singleAbove[np]; ok && !ix.ps[i].gone {
			return np, ix.ps[i], true
		}
		for d := filepath.Dir(np); d != filepath.Dir(d); d = filepath.Dir(d) {
			if i, ok := ix.single[d]; ok && !ix.ps[i].gone {
				return np, ix.ps[i], true
			}
		}
	}
	return "", indexed{}, false
}

// related returns the placements whose real directory is dir, contains
// it or lies below it, in catalog order.
func (ix *Index) related(dir string) []int {
	out := append([]int{}, ix.byDir[dir]...)
	out = append(out, ix.below[dir]...)
	for d := filepath.Dir(dir); d != dir; dir, d = d, filepath.Dir(d) {
		out = append(out, ix.byDir[d]...)
	}
	sort.Ints(out)
	return out
}

// Check refuses a torrent already in the catalog or whose files would
// overlap those of a catalog torrent (see CheckOverlap).
func (ix *Index) Check(ctx context.Context, db *catalog.DB, nt catalog.NewTorrent) error {
	if i, ok := ix.byHash[nt.InfoHash]; ok {
		p := ix.ps[i]
		return fmt.Errorf("infohash %x is already in the catalog as %q in collection %s: %w", p.InfoHash, p.Name, p.Collection, catalog.ErrExists)
	}
	return ix.checkFiles(ctx, db, nt)
}

// checkFiles refuses nt's files if they would overlap those of another
// torrent of the index (one with another infohash).
func (ix *Index) checkFiles(ctx context.Context, db *catalog.DB, nt catalog.NewTorrent) error {
	newDir := realPath(nt.DataDir)
	newOwns := ownsDir(nt.Name, nt.Files)
	var related []indexed
	var ids []int64
	for _, i := range ix.related(newDir) {
		p := ix.ps[i]
		if p.InfoHash == nt.InfoHash || p.gone {
			continue
		}
		if (newOwns && within(p.real, newDir)) || (p.OwnsDir && within(newDir, p.real)) {
			return fmt.Errorf("data directory %s %w the data directory %s of torrent %q (collection %s)",
				nt.DataDir, ErrOverlap, p.DataDir, p.Name, p.Collection)
		}
		if p.OwnsDir { // single-file torrents: singleClash
			related = append(related, p)
			ids = append(ids, p.ID)
		}
	}
	newPaths := absPaths(newDir, nt.Files)
	if f, p, ok := ix.singleClash(newPaths); ok && p.InfoHash != nt.InfoHash {
		return fmt.Errorf("file %s %w a file of torrent %q (collection %s)", f, ErrOverlap, p.Name, p.Collection)
	}
	if len(related) == 0 {
		return nil
	}
	files, err := db.FilesOf(ctx, ids)
	if err != nil {
		return err
	}
	for _, p := range related {
		if f, ok := clash(newPaths, absPaths(p.real, files[p.ID])); ok {
			return fmt.Errorf("file %s %w a file of torrent %q (collection %s)", f, ErrOverlap, p.Name, p.Collection)
		}
	}
	return nil
}

// Placement is the placement of a torrent just added, for Add.
func Placement(t catalog.Torrent, nt catalog.NewTorrent) catalog.Placement {
	return catalog.Placement{ID: t.ID, Name: t.Name, Collection: t.Collection, InfoHash: t.InfoHash,
		DataDir: t.DataDir, OwnsDir: ownsDir(nt.Name, nt.Files)}
}
