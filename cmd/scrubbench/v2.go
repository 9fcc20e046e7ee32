package main

import (
	"fmt"
	"os"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/torrentfile"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// loadV2Target builds the target of a v2-only or hybrid torrent (made by
// libtorrent in bench/scrub_v2.sh) the way the verify service does: from a
// catalog row and its files, as `archivd add` would store them.
func loadV2Target(dir, tfile string) (*scrub.Target, error) {
	raw, err := os.ReadFile(tfile)
	if err != nil {
		return nil, err
	}
	tf, err := torrentfile.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tfile, err)
	}
	files := make([]catalog.File, len(tf.Files))
	for i, f := range tf.Files {
		files[i] = catalog.File{Index: f.Index, Path: f.Path, Length: f.Length, Offset: f.Offset}
	}
	return scrub.FromTorrent(catalog.Torrent{ID: 1, Metainfo: raw, DataDir: dir}, files)
}

// hashKind names what a target checks, for the report.
func hashKind(tg *scrub.Target) string {
	switch {
	case tg.V2 == nil:
		return "v1"
	case tg.Hashes == nil:
		return "v2"
	}
	return "hybrid"
}
