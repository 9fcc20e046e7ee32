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
	im := &dirImport{db: db, ix: ix, res: &res}
	for _, p := range todo {
		res.Read++
		if err := im.one(ctx, dataDir, coll, p, stats[p], source); err != nil {
			return res, errors.Join(err, db.RecordTorrentDirFiles(ctx, coll.ID, im.seen))
		}
	}
	err = im.flush(ctx)
	return res, errors.Join(err, db.RecordTorrentDirFiles(ctx, coll.ID, im.seen))
}

// importBatch is how many checked torrents go to the catalog in one
// transaction (AddTorrents: three round trips for the batch, where one
// AddTorrent each took six).
const importBatch = 256

// dirImport is one ImportDir's state: the torrents checked and waiting
// for the catalog, and the files to record as seen.
type dirImport struct {
	db      *catalog.DB
	ix      *Index
	res     *DirResult
	pending []pendingImport
	seen    []catalog.DirFile
}

type pendingImport struct {
	nt   catalog.NewTorrent
	file catalog.DirFile
}

// one checks one file of a torrent_dir and queues its torrent; a torrent
// whose check would read a queued torrent's files from the catalog sends
// the queue first. Only catalog errors are returned.
func (im *dirImport) one(ctx context.Context, dataDir string, coll catalog.Collection, path string, fi os.FileInfo, source string) error {
	t, err := torrentfile.Load(path)
	if err != nil {
		im.res.Failed = append(im.res.Failed, Failed{path, err})
		return nil
	}
	nt := NewTorrentOf(t, coll.Name, t.DataDirFor(CollectionRoot(dataDir, coll)))
	nt.WebSeeds = Union(t.WebSeeds, coll.WebSeeds)
	nt.Source = source
	if err := checkSeedable(nt); err != nil {
		im.res.Failed = append(im.res.Failed, Failed{path, err})
		return nil
	}
	if im.ix.RelatedPending(nt.DataDir) || len(im.pending) >= importBatch {
		if err := im.flush(ctx); err != nil {
			return err
		}
	}
	file := catalog.DirFile{Path: path, Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano(), InfoHash: t.InfoHash}
	err = im.ix.Check(ctx, im.db, nt)
	switch {
	case errors.Is(err, catalog.ErrExists):
		im.seen = append(im.seen, file) // in the catalog, or queued just before
	case err != nil && ctx.Err() != nil:
		return err
	case err != nil:
		im.res.Failed = append(im.res.Failed, Failed{path, fmt.Errorf("import %s: %w", path, err)})
	default:
		im.ix.AddPending(nt)
		im.pending = append(im.pending, pendingImport{nt, file})
	}
	return nil
}

// flush adds the queued torrents to the catalog in one transaction. If
// that fails (a torrent added meanwhile by someone else), each is added
// on its own, so that one bad torrent fails alone. Only catalog errors
// are returned.
func (im *dirImport) flush(ctx context.Context) error {
	batch := im.pending
	im.pending = nil
	if len(batch) == 0 {
		return nil
	}
	ns := make([]catalog.NewTorrent, len(batch))
	for i, p := range batch {
		ns[i] = p.nt
	}
	ids, err := im.db.AddTorrents(ctx, ns)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return im.oneByOne(ctx, batch)
	}
	ts, err := im.db.TorrentsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]catalog.Torrent, len(ts))
	for _, t := range ts {
		byID[t.ID] = t
	}
	for i, p := range batch {
		im.placed(p, byID[ids[i]])
	}
	return nil
}

// oneByOne adds the torrents of a batch that failed as a whole, each in a
// transaction of its own.
func (im *dirImport) oneByOne(ctx context.Context, batch []pendingImport) error {
	for _, p := range batch {
		tor, err := im.db.AddTorrent(ctx, p.nt)
		switch {
		case errors.Is(err, catalog.ErrExists):
			im.ix.Forget(p.nt.InfoHash)
			im.seen = append(im.seen, p.file)
		case err != nil && ctx.Err() != nil:
			return err
		case err != nil:
			im.ix.Forget(p.nt.InfoHash)
			im.res.Failed = append(im.res.Failed, Failed{p.file.Path, fmt.Errorf("import %s: %w", p.file.Path, err)})
		default:
			im.placed(p, tor)
		}
	}
	return nil
}

func (im *dirImport) placed(p pendingImport, tor catalog.Torrent) {
	im.ix.Placed(p.nt.InfoHash, tor.ID)
	im.res.Imported = append(im.res.Imported, Imported{Torrent: tor, Warnings: Warnings(p.nt)})
	im.seen = append(im.seen, p.file)
}
