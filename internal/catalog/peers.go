package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Peer is a peer address seen for a torrent, kept so that a restart can
// reconnect without waiting for a tracker or the DHT.
type Peer struct {
	TorrentID  int64     `json:"torrent_id"`
	Addr       string    `json:"addr"` // host:port as dialled
	Source     string    `json:"source"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// SavePeers upserts the given peers, refreshing last_seen_at, in one
// batch. Peers of torrents that no longer exist are skipped (a torrent
// may be removed while the daemon still holds its peers).
func (db *DB) SavePeers(ctx context.Context, peers []Peer) error {
	if len(peers) == 0 {
		return nil
	}
	ids := make([]int64, len(peers))
	addrs := make([]string, len(peers))
	sources := make([]string, len(peers))
	for i, p := range peers {
		ids[i], addrs[i], sources[i] = p.TorrentID, p.Addr, p.Source
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO peers (torrent_id, addr, source, last_seen_at)
		SELECT p.id, p.addr, p.source, now()
		FROM unnest($1::bigint[], $2::text[], $3::text[]) AS p(id, addr, source)
		WHERE EXISTS (SELECT 1 FROM torrents t WHERE t.id = p.id)
		ON CONFLICT (torrent_id, addr) DO UPDATE SET last_seen_at = now(), source = EXCLUDED.source`,
		ids, addrs, sources)
	if err != nil {
		return fmt.Errorf("catalog: save %d peers: %w", len(peers), err)
	}
	return nil
}

// PeersOf returns the known peers of the given torrents (all torrents when
// ids is nil), most recently seen first, at most perTorrent per torrent.
func (db *DB) PeersOf(ctx context.Context, ids []int64, perTorrent int) (map[int64][]Peer, error) {
	rows, err := db.pool.Query(ctx, `SELECT torrent_id, addr, source, last_seen_at FROM (
			SELECT p.*, row_number() OVER (PARTITION BY torrent_id ORDER BY last_seen_at DESC) AS rn
			FROM peers p WHERE $1::bigint[] IS NULL OR torrent_id = ANY($1)) x
		WHERE rn <= $2`, ids, perTorrent)
	if err != nil {
		return nil, fmt.Errorf("catalog: read peers: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Peer, error) {
		var p Peer
		return p, r.Scan(&p.TorrentID, &p.Addr, &p.Source, &p.LastSeenAt)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: read peers: %w", err)
	}
	out := map[int64][]Peer{}
	for _, p := range ps {
		out[p.TorrentID] = append(out[p.TorrentID], p)
	}
	return out, nil
}
