// Package importer puts torrents into the catalog safely: the one path
// shared by `archivd add` and the daemon's declarative collections. It
// refuses a torrent whose files would overlap another's, under a lock that
// serialises concurrent importers.
package importer

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/torrentfile"
)

// importLease serialises the overlap check and insert of concurrent
// imports (a catalog lease, so it holds behind a transaction-mode PgBouncer).
const importLease = "import"

// Add stores nt unless it is already in the catalog, overlaps another
// torrent's files, or is a torrent archivd cannot seed (ErrUnsupported).
func Add(ctx context.Context, db *catalog.DB, nt catalog.NewTorrent) (catalog.Torrent, error) {
	if err := checkSeedable(nt); err != nil {
		return catalog.Torrent{}, err
	}
	unlock, err := db.Lock(ctx, importLease)
	if err != nil {
		return catalog.Torrent{}, err
	}
	defer unlock()
	if err := CheckOverlap(ctx, db, nt); err != nil {
		return catalog.Torrent{}, err
	}
	return db.AddTorrent(ctx, nt)
}

// NewTorrentOf is the catalog row of a parsed torrent whose data lives in
// dataDir.
func NewTorrentOf(t *torrentfile.Torrent, collection, dataDir string) catalog.NewTorrent {
	files := make([]catalog.File, len(t.Files))
	for i, f := range t.Files {
		files[i] = catalog.File{Index: f.Index, Path: f.Path, Length: f.Length, Offset: f.Offset}
	}
	return catalog.NewTorrent{
		Collection: collection, InfoHash: t.InfoHash, InfoHashV2: t.InfoHashV2, Name: t.Name, Metainfo: t.Raw,
		PieceLength: t.PieceLength, PieceCount: t.PieceCount, TotalLength: t.TotalLength,
		DataDir: dataDir, Trackers: t.Trackers, WebSeeds: t.WebSeeds, Files: files,
	}
}

// CollectionRoot is where imported torrents of c get their directories:
// its data_root, else dataDir/<name> (made absolute).
func CollectionRoot(dataDir string, c catalog.Collection) string {
	if c.DataRoot != "" {
		return c.DataRoot
	}
	p := filepath.Join(dataDir, c.Name)
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// Union merges string lists, dropping blanks and duplicates, in order.
func Union(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, s := range l {
			if s = strings.TrimSpace(s); s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// ImportFile adds the .torrent file at path to collection coll, with its
// data in CollectionRoot/<name> (data already there is adopted: its pieces
// are hashed by the daemon before they are trusted). It also returns the
// torrent's Warnings (for the log of an unattended import).
func ImportFile(ctx context.Context, db *catalog.DB, dataDir string, coll catalog.Collection, path, source string) (catalog.Torrent, []string, error) {
	t, err := torrentfile.Load(path)
	if err != nil {
		return catalog.Torrent{}, nil, err
	}
	nt := NewTorrentOf(t, coll.Name, t.DataDirFor(CollectionRoot(dataDir, coll)))
	nt.WebSeeds = Union(t.WebSeeds, coll.WebSeeds)
	nt.Source = source
	tor, err := Add(ctx, db, nt)
	if err != nil {
		return catalog.Torrent{}, nil, fmt.Errorf("import %s: %w", path, err)
	}
	return tor, Warnings(nt), nil
}
