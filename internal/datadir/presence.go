// Package datadir is archivd's one way into a torrent's data directory:
// whether its data is there at all (Presence), and (see open.go) opening
// and removing the files in it under one symlink policy.
package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/archivd/archivd/internal/catalog"
)

// Presence tells whether a torrent's data looks present: CauseNone when
// its directory exists and at least one of its files (relative,
// slash-separated paths) is there; else why not, with a reason naming the
// directory. A torrent with no files is present when its directory is.
// It reads no data: it tells an unmounted disk from a mounted one, not
// good data from bad (the scrubber does that).
func Presence(dataDir string, files []string) (catalog.AvailabilityCause, string) {
	fi, err := os.Stat(dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return catalog.CauseDataMissing, fmt.Sprintf("data directory %s does not exist", dataDir)
	case err != nil:
		return catalog.CauseDataUnreadable, fmt.Sprintf("data directory %s: %v", dataDir, err)
	case !fi.IsDir():
		return catalog.CauseDataUnreadable, fmt.Sprintf("data directory %s is not a directory", dataDir)
	}
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dataDir, filepath.FromSlash(f))); err == nil {
			return catalog.CauseNone, ""
		}
	}
	if len(files) == 0 {
		return catalog.CauseNone, ""
	}
	return catalog.CauseDataMissing, fmt.Sprintf("none of the %d files exists in data directory %s", len(files), dataDir)
}

// FilePaths lists the paths of files, for Presence.
func FilePaths(files []catalog.File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}
