package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ReplicaPeers returns, for the given torrents this node holds, the
// BitTorrent addresses (nodes.bt_addr) of the other up nodes holding a
// replica of them (not marked for removal: its node drops it): nodes serve
// each other without a tracker or the DHT.
// A torrent's list names replicas that passed their last scrub first
// (repair prefers them), then those never scrubbed, then the rest.
// Source is "replica:NODE".
func (db *DB) ReplicaPeers(ctx context.Context, ids []int64) (map[int64][]Peer, error) {
	rows, err := db.pool.Query(ctx, `SELECT o.torrent_id, n.bt_addr, 'replica:' || n.id, n.last_seen_at
		FROM replicas me JOIN replicas o ON o.torrent_id = me.torrent_id AND o.node_id <> me.node_id
		JOIN nodes n ON n.id = o.node_id
		LEFT JOIN LATERAL (SELECT v.last_result FROM verify_ranges v WHERE v.torrent_id = o.torrent_id AND v.node_id = o.node_id
			AND v.last_verified_at IS NOT NULL ORDER BY v.last_verified_at DESC LIMIT 1) s ON true
		WHERE me.node_id = $2 AND me.torrent_id = ANY($3) AND n.bt_addr <> '' AND o.availability <> 'unavailable' AND o.remove_at IS NULL
			AND `+nodeUpSQL+`
		ORDER BY o.torrent_id, CASE WHEN s.last_result = 'ok' THEN 0 WHEN s.last_result IS NULL THEN 1 ELSE 2 END, n.id`,
		NodeUpTTL.Seconds(), db.NodeID(), ids)
	if err != nil {
		return nil, fmt.Errorf("catalog: list the other replicas' nodes: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Peer, error) {
		var p Peer
		return p, r.Scan(&p.TorrentID, &p.Addr, &p.Source, &p.LastSeenAt)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list the other replicas' nodes: %w", err)
	}
	out := map[int64][]Peer{}
	for _, p := range ps {
		out[p.TorrentID] = append(out[p.TorrentID], p)
	}
	return out, nil
}
