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
