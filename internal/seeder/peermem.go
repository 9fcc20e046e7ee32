package seeder

import (
	"sync"

	"github.com/anacrolix/torrent"
	"github.com/archivd/archivd/internal/catalog"
)

// peerMemory remembers the dialable addresses of peers whose connection
// closed, per infohash. Two complete peers often part (libtorrent closes
// redundant seed-to-seed connections): when verification later finds a
// bad piece, those are the sources to dial again, and a tracker would only
// tell us of them at its next interval.
type peerMemory struct {
	mu sync.Mutex
	m  map[[20]byte][]string
}

const peersRemembered = 50

func newPeerMemory() *peerMemory { return &peerMemory{m: map[[20]byte][]string{}} }

// closed is the engine's PeerConnClosed callback: it must not block.
func (pm *peerMemory) closed(pc *torrent.PeerConn) {
	defer listenPorts.Delete(pc)
	t := pc.Torrent()
	if t == nil {
		return
	}
	addr := dialAddr(pc)
	if addr == "" {
		return
	}
	ih := t.InfoHash()
	pm.mu.Lock()
	defer pm.mu.Unlock()
	l := pm.m[ih]
	for _, a := range l {
		if a == addr {
			return
		}
	}
	if len(l) >= peersRemembered {
		l = l[1:]
	}
	pm.m[ih] = append(l, addr)
}

// of returns the remembered peers of a torrent as catalog peers.
func (pm *peerMemory) of(id int64, ih [20]byte) []catalog.Peer {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	out := make([]catalog.Peer, 0, len(pm.m[ih]))
	for _, a := range pm.m[ih] {
		out = append(out, catalog.Peer{TorrentID: id, Addr: a, Source: "remembered"})
	}
	return out
}

// drain returns the remembered peers of the given torrents as catalog rows
// and forgets them: once in the catalog, MarkBad and restarts find them
// there (last_seen_at is then about when they parted). undo puts them back
// when the rows could not be written.
func (pm *peerMemory) drain(es []*entry) (rows []catalog.Peer, undo func()) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	taken := map[[20]byte][]string{}
	for _, e := range es {
		ih := e.row.InfoHash
		for _, a := range pm.m[ih] {
			rows = append(rows, catalog.Peer{TorrentID: e.row.ID, Addr: a, Source: "remembered"})
		}
		if l, ok := pm.m[ih]; ok {
			taken[ih] = l
			delete(pm.m, ih)
		}
	}
	undo = func() {
		pm.mu.Lock()
		defer pm.mu.Unlock()
		for ih, l := range taken {
			pm.m[ih] = append(l, pm.m[ih]...)
			if n := len(pm.m[ih]); n > peersRemembered {
				pm.m[ih] = pm.m[ih][n-peersRemembered:]
			}
		}
	}
	return rows, undo
}
