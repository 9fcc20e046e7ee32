package importer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/torrentfile"
)

// PlacedDir chooses the data directory of torrent t that the fleet
// planner placed on db's node, whose data_dir is dataDir: below its
// collection's root on this node (the collection's data_root, else
// dataDir/<collection>) where an import would put it, unless that
// overlaps a torrent of the catalog as this node sees it (its own
// replicas, and where the others were added): the torrent was added on
// its first node in a directory of its own choosing, so its name may be
// taken here. Then it is root/<name>-<infohash hex>, a directory no import
// chooses. Both overlapping is an error (the planner tries again at its
// next pass).
func PlacedDir(ctx context.Context, db *catalog.DB, dataDir string, t catalog.Torrent) (string, error) {
	dirs, err := PlacedDirs(ctx, db, dataDir, []catalog.Torrent{t})
	if err != nil {
		return "", err
	}
	return dirs[0], nil
}

// PlacedDirs chooses the data directories of torrents ts as PlacedDir
// does, each seeing the directories chosen before it, with one look at
// the catalog for all (a pass may settle tens of thousands): it loads only
// the placements that can overlap one of the candidate directories (equal
// to, above or below it: catalog.PlacementsNear), so its cost follows
// len(ts), not the catalog's size. It returns the directories of ts in
// order up to the first it could not choose, and that error (wrapped with
// the torrent's name).
func PlacedDirs(ctx context.Context, db *catalog.DB, dataDir string, ts []catalog.Torrent) ([]string, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	files, err := db.FilesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	// Candidates of each torrent, up to the first whose collection or
	// metainfo cannot be read: those before it are still chosen.
	colls := map[string]catalog.Collection{}
	var cands [][2]string
	var near []string
	var stop error
	for _, t := range ts {
		c, ok := colls[t.Collection]
		if !ok {
			if c, err = db.Collection(ctx, t.Collection); err != nil {
				stop = fmt.Errorf("choose the data directory of placed torrent %s: %w", t.Name, err)
				break
			}
			colls[t.Collection] = c
		}
		tf, err := torrentfile.Parse(t.Metainfo)
		if err != nil {
			stop = fmt.Errorf("choose the data directory of placed torrent %s: read its metainfo: %w", t.Name, err)
			break
		}
		root := CollectionRoot(dataDir, c)
		cand := [2]string{tf.DataDirFor(root), filepath.Join(root, t.Name+"-"+t.HexHash())}
		cands = append(cands, cand)
		for _, d := range cand {
			near = append(near, nearPaths(d, t.Name, files[t.ID])...)
		}
	}
	ps, err := db.PlacementsNear(ctx, near)
	if err != nil {
		return nil, err
	}
	ix := newIndex(ps)
	var dirs []string
	for i, cand := range cands {
		t := ts[i]
		dir, err := ix.placedDir(ctx, db, cand, t, files[t.ID])
		if err != nil {
			return dirs, fmt.Errorf("choose the data directory of placed torrent %s: %w", t.Name, err)
		}
		ix.Add(catalog.Placement{ID: t.ID, Name: t.Name, Collection: t.Collection, InfoHash: t.InfoHash, DataDir: dir,
			OwnsDir: ownsDir(t.Name, files[t.ID])})
		dirs = append(dirs, dir)
	}
	return dirs, stop
}

// placedDir chooses between t's candidate directories: where an import
// would put it, else root/<name>-<infohash>.
func (ix *Index) placedDir(ctx context.Context, db *catalog.DB, cand [2]string, t catalog.Torrent, files []catalog.File) (string, error) {
	nt := catalog.NewTorrent{InfoHash: t.InfoHash, Name: t.Name, DataDir: cand[0], Files: files}
	err := ix.checkFiles(ctx, db, nt)
	if !errors.Is(err, ErrOverlap) {
		return nt.DataDir, err
	}
	nt.DataDir = cand[1]
	if err2 := ix.checkFiles(ctx, db, nt); err2 != nil {
		return "", fmt.Errorf("no data directory free for it: %v; and %w", err, err2)
	}
	return nt.DataDir, nil
}

// nearPaths are the paths whose placements (equal, above or below:
// catalog.PlacementsNear) can overlap a torrent named name with files put
// in data directory dir: dir for a torrent that owns it; for a
// single-file torrent, which shares dir, its file's path (a placement in
// dir or above it overlaps it only through a path above or at that file,
// one in a sibling of the file never), so that the many single-file
// torrents of a shared directory are not all loaded. Placements are
// compared with symlinks resolved: each path as written and as it
// resolves.
func nearPaths(dir, name string, files []catalog.File) []string {
	ps := []string{dir}
	if !ownsDir(name, files) {
		ps = absPaths(dir, files)
	}
	var out []string
	for _, p := range ps {
		out = append(out, filepath.Clean(p), realPath(p))
	}
	return out
}
