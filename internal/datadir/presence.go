// Package datadir is archivd's one way into a torrent's data directory:
// whether its data is there at all (Presence), opening the files in it
// (OpenFile, Root) and removing them (RemoveFiles), all under the one
// symlink policy written in open.go.
package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

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
	if len(files) == 0 {
		return catalog.CauseNone, ""
	}
	r, err := OpenRoot(dataDir)
	if err != nil {
		return catalog.CauseDataUnreadable, err.Error()
	}
	defer r.Close()
	for _, f := range files {
		if r.present(f) {
			return catalog.CauseNone, ""
		}
	}
	return catalog.CauseDataMissing, fmt.Sprintf("none of the %d files exists in data directory %s", len(files), dataDir)
}

// present tells whether something is at catalog path rel, reached
// without following links (a link there counts: it is not data, but the
// disk is mounted).
func (r *Root) present(rel string) bool {
	parts, err := SplitPath(rel)
	if err != nil {
		return false
	}
	_, err = r.lstat(parts)
	return err == nil
}

// FilePaths lists the paths of files, for Presence.
func FilePaths(files []catalog.File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}
