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
	c, err := db.Collection(ctx, t.Collection)
	if err != nil {
		return "", err
	}
	tf, err := torrentfile.Parse(t.Metainfo)
	if err != nil {
		return "", fmt.Errorf("read its metainfo: %w", err)
	}
	files, err := db.Files(ctx, t.ID)
	if err != nil {
		return "", err
	}
	ix, err := LoadIndex(ctx, db)
	if err != nil {
		return "", err
	}
	root := CollectionRoot(dataDir, c)
	nt := catalog.NewTorrent{InfoHash: t.InfoHash, Name: t.Name, DataDir: tf.DataDirFor(root), Files: files}
	err = ix.checkFiles(ctx, db, nt)
	if !errors.Is(err, ErrOverlap) {
		return nt.DataDir, err
	}
	nt.DataDir = filepath.Join(root, t.Name+"-"+t.HexHash())
	if err2 := ix.checkFiles(ctx, db, nt); err2 != nil {
		return "", fmt.Errorf("no data directory free for it: %v; and %w", err, err2)
	}
	return nt.DataDir, nil
}
