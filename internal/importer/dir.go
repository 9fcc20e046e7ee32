package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/torrentfile"
)

// DirResult is what ImportDir did, file by file.
type DirResult struct {
	Files int // *.torrent files found
	// Read is how many of them were opened and parsed: only files new or
	// changed since they were last recorded (path, size, modification
	// time), or whose torrent left the catalog.
	Read     int
	Imported []Imported
	Failed   []Failed
}

// Imported is a torrent ImportDir added to the catalog.
type Imported struct {
	Torrent  catalog.Torrent
	Warnings []string
}

// Failed is a file ImportDir could not import (it is tried again at the
// next import).
type Failed struct {
	Path string
	Err  error
}

// ImportDir imports every *.torrent of dir not yet in the catalog into
// collection coll. Files recorded by an earlier import with the same
// size and modification time, whose torrent is still in the catalog, are
// not read; the overlap check of the others uses one Index. Only catalog
// errors (and an unreadable dir) are returned; a bad file is in Failed.
func ImportDir(ctx context.Context, db *catalog.DB, dataDir string, coll catalog.Collection, dir, source string) (DirResult, error) {
	var res DirResult
	paths, err := filepath.Glob(filepath.Join(dir, "*.torrent"))
	if err == nil {
		_, err = os.Stat(dir)
	}
	if err != nil {
		return res, fmt.Errorf("read torrent_dir %s: %w", dir, err)
	}
	sort.Strings(paths)
	res.Files = len(paths)
	known, err := db.TorrentDirFiles(ctx, coll.ID)
	if err != nil {
		return res, err
	}
	var todo []string
	stats := map[string]os.FileInfo{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			res.Failed = append(res.Failed, Failed{p, err})
			continue
		}
		if k, ok := known[p]; ok && k.Size == fi.Size() && k.MtimeNS == fi.ModTime().UnixNano() {
			continue
		}
		stats[p] = fi
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		return res, nil
	}
	unlock, err := db.Lock(ctx, importLease)
	if err != nil {
		return res, err
	}
	defer unlock()
	ix, err := LoadIndex(ctx, db)
	if err != nil {
		return res, err
	}
	// The files whose torrents are in the catalog are recorded together at
	// the end (also when a catalog error stops the import): a crash before
	// that reads them again at the next import, which finds their torrents
	// there (ErrExists) and records them.
	var seen []catalog.DirFile
	for _, p := range todo {
		res.Read++
		f, ok, err := importOne(ctx, db, ix, dataDir, coll, p, stats[p], source, &res)
		if err != nil {
			return res, errors.Join(err, db.RecordTorrentDirFiles(ctx, coll.ID, seen))
		}
		if ok {
			seen = append(seen, f)
		}
	}
	return res, db.RecordTorrentDirFiles(ctx, coll.ID, seen)
}

// importOne imports one file of a torrent_dir and returns it to record as
// seen when its torrent is (now) in the catalog. Only catalog errors are
// returned.
func importOne(ctx context.Context, db *catalog.DB, ix *Index, dataDir string, coll catalog.Collection, path string, fi os.FileInfo, source string, res *DirResult) (catalog.DirFile, bool, error) {
	t, err := torrentfile.Load(path)
	if err != nil {
		res.Failed = append(res.Failed, Failed{path, err})
		return catalog.DirFile{}, false, nil
	}
	nt := NewTorrentOf(t, coll.Name, t.DataDirFor(CollectionRoot(dataDir, coll)))
	nt.WebSeeds = Union(t.WebSeeds, coll.WebSeeds)
	nt.Source = source
	nt.FlushLater = true // RecordTorrentDirFiles at the end flushes it
	if err := checkSeedable(nt); err != nil {
		res.Failed = append(res.Failed, Failed{path, err})
		return catalog.DirFile{}, false, nil
	}
	err = ix.Check(ctx, db, nt)
	var tor catalog.Torrent
	if err == nil {
		tor, err = db.AddTorrent(ctx, nt)
	}
	switch {
	case errors.Is(err, catalog.ErrExists):
	case err != nil && ctx.Err() != nil:
		return catalog.DirFile{}, false, err
	case err != nil:
		res.Failed = append(res.Failed, Failed{path, fmt.Errorf("import %s: %w", path, err)})
		return catalog.DirFile{}, false, nil
	default:
		ix.Add(Placement(tor, nt))
		res.Imported = append(res.Imported, Imported{Torrent: tor, Warnings: Warnings(nt)})
	}
	return catalog.DirFile{Path: path, Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano(), InfoHash: t.InfoHash}, true, nil
}
