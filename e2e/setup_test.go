package e2e

import (
	"path/filepath"
	"testing"
)

// The setups the e2e tests share: a source adopted where it lies, its
// .torrent imported by another node, and the small tree of the integrity
// tests.

// adopt creates collection coll and adds src to it (adopted in place,
// recorded verified) with the given piece length; with a non-empty tfile
// the .torrent is also written there. It returns the torrent as shown.
func (in *instance) adopt(coll, src, pieceLength, tfile string) torrentJSON {
	in.t.Helper()
	in.cli(0, "collection", "create", coll)
	args := []string{"add", "-c", coll, src, "--piece-length", pieceLength}
	if tfile != "" {
		args = append(args, "--out", tfile)
	}
	in.cli(0, args...)
	var tj torrentJSON
	in.cliJSON(&tj, "show", filepath.Base(src))
	return tj
}

// importTorrent creates collection coll with data root dataRoot and adds
// the .torrent tfile to it (a fresh import: no piece recorded).
func (in *instance) importTorrent(coll, dataRoot, tfile string) {
	in.t.Helper()
	in.cli(0, "collection", "create", coll, "--data-root", dataRoot)
	in.cli(0, "add", "-c", coll, tfile)
}

// newTreeInstance is a node (not started) with integrityTree at
// <dir>/tree adopted into collection c with 16 KiB pieces (15 pieces).
// It returns the node and the tree's path.
func newTreeInstance(t *testing.T, name string) (*instance, string) {
	t.Helper()
	a := newInstance(t, name, "http://127.0.0.1:1/announce", "")
	dir := filepath.Join(a.dir, "tree")
	integrityTree(t, dir)
	a.adopt("c", dir, "16KiB", "")
	return a, dir
}
