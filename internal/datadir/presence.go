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
	"sync"

	"github.com/archivd/archivd/internal/catalog"
)

// Presence tells whether a torrent's data looks present: CauseNone when
// its directory exists and at least one of its files (relative,
// slash-separated paths) is there; else why not, with a reason naming the
// directory. A torrent with no files is present when its directory is.
// It reads no data: it tells an unmounted disk from a mounted one, not
// good data from bad (the scrubber does that).
func Presence(dataDir string, files []string) (catalog.AvailabilityCause, string) {
	d := openPresenceDir(dataDir)
	defer d.close()
	return d.presence(files)
}

// presenceDir is a data directory opened for Presence: why it cannot be
// looked into, or its Root (or why that did not open). Read-only once
// made, so safe for concurrent use.
type presenceDir struct {
	dir     string
	cause   catalog.AvailabilityCause
	reason  string
	root    *Root
	rootErr error
}

func openPresenceDir(dataDir string) *presenceDir {
	d := &presenceDir{dir: dataDir}
	fi, err := os.Stat(dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.cause, d.reason = catalog.CauseDataMissing, fmt.Sprintf("data directory %s does not exist", dataDir)
	case err != nil:
		d.cause, d.reason = catalog.CauseDataUnreadable, fmt.Sprintf("data directory %s: %v", dataDir, err)
	case !fi.IsDir():
		d.cause, d.reason = catalog.CauseDataUnreadable, fmt.Sprintf("data directory %s is not a directory", dataDir)
	default:
		d.root, d.rootErr = OpenRoot(dataDir)
	}
	return d
}

// presence is Presence of files in d.
func (d *presenceDir) presence(files []string) (catalog.AvailabilityCause, string) {
	switch {
	case d.cause != catalog.CauseNone:
		return d.cause, d.reason
	case len(files) == 0:
		return catalog.CauseNone, ""
	case d.rootErr != nil:
		return catalog.CauseDataUnreadable, d.rootErr.Error()
	}
	for _, f := range files {
		if d.root.present(f) {
			return catalog.CauseNone, ""
		}
	}
	return catalog.CauseDataMissing, fmt.Sprintf("none of the %d files exists in data directory %s", len(files), d.dir)
}

func (d *presenceDir) close() {
	if d.root != nil {
		d.root.Close()
	}
}

// Presences answers Presence for many torrents looked at together (the
// seeder adding a catalog's torrents), opening each data directory once:
// the single-file torrents of a collection share their directory, and
// at 100,000 torrents a stat, an open and a close of it for each one
// took 7% of the start's CPU. What it tells is what Presence would have
// told when the directory was first looked at. Safe for concurrent use;
// Close releases the directories.
type Presences struct {
	mu   sync.Mutex
	dirs map[string]*presenceDir
	// Opens counts the directories looked at (tests).
	Opens int
}

// Presence is the package's Presence, through the directories seen.
func (p *Presences) Presence(dataDir string, files []string) (catalog.AvailabilityCause, string) {
	p.mu.Lock()
	d := p.dirs[dataDir]
	if d == nil {
		if p.dirs == nil {
			p.dirs = map[string]*presenceDir{}
		}
		d = openPresenceDir(dataDir)
		p.dirs[dataDir] = d
		p.Opens++
	}
	p.mu.Unlock()
	return d.presence(files)
}

// Close closes the directories opened.
func (p *Presences) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.dirs {
		d.close()
	}
	p.dirs = nil
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
