package importer

import (
	"errors"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/torrentfile"
)

// ErrUnsupported marks a valid torrent that archivd cannot seed.
var ErrUnsupported = errors.New("not supported")

// checkSeedable refuses v2-only torrents (BEP 52 with no v1 pieces). The
// torrent engine, anacrolix/torrent v1.61.0, panics when it is given such
// a torrent's info: AddTorrent(metainfo) on its zero v1 infohash, and
// SetInfoBytes after AddTorrentOpt with the truncated v2 infohash (what
// the seeder does) in its piece request order check ("piece request order
// has {} and pending pieces has {0}"), since a piece's v2 hash arrives only
// with the piece layers, which can be added only after the info. The
// check runs on the engine's first calls and then ever more rarely, so a
// daemon starting with such a torrent dies at once and a running one at
// some later time (TestEngineStillPanicsOnV2OnlyInfo): such a torrent must
// not enter the catalog.
// Hybrids are accepted: the engine checks them by their v1 hashes (a
// single-file hybrid made by libtorrent seeds to libtorrent).
func checkSeedable(nt catalog.NewTorrent) error {
	if nt.Metainfo == nil {
		return nil // a magnet: checked when its metadata arrives
	}
	_, info, err := torrentfile.Decode(nt.Metainfo)
	if err != nil {
		return fmt.Errorf("torrent %s: %w", nt.Name, err)
	}
	if info.HasV2() && !info.HasV1() {
		return fmt.Errorf("torrent %s is v2-only (BEP 52, no v1 piece hashes): %w: the torrent engine (anacrolix/torrent v1.61.0) crashes on such torrents; add a v1 or hybrid torrent of the same data", nt.Name, ErrUnsupported)
	}
	return nil
}
