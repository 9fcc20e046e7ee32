package seeder

import (
	"context"

	"github.com/archivd/archivd/internal/catalog"
)

// knownPeers are the peers to dial for the torrents: those the catalog
// recorded, then the other nodes holding a replica of each (nodes serve
// each other with no tracker or DHT; a replica that passed its last scrub
// comes first, so repair asks it first).
func (s *Seeder) knownPeers(ctx context.Context, ids []int64) (map[int64][]catalog.Peer, error) {
	peers, err := s.db.PeersOf(ctx, ids, maxPeersPerTorrent)
	if err != nil {
		return nil, err
	}
	nodes, err := s.db.ReplicaPeers(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, ps := range nodes {
		peers[id] = append(ps, peers[id]...)
	}
	return peers, nil
}
