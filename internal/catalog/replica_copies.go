package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CopyCount is how many torrents have Copies complete copies.
type CopyCount struct {
	Copies   int   `json:"copies"`
	Torrents int64 `json:"torrents"`
}

// CopyStats is what the replicas table says of copies across the fleet
// (torrents not removed). A copy is a replica that counts (see copySQL)
// with every piece recorded complete; a replica that counts but is not
// complete yet is being fetched (placed by the planner, or downloading).
type CopyStats struct {
	ByCopies []CopyCount `json:"by_copies"`
	// UnderMin: torrents with fewer copies than their replicas_min.
	UnderMin      int64 `json:"under_min"`
	UnderMinBytes int64 `json:"under_min_bytes"`
	// AtRisk: torrents with fewer copies on nodes up now than their
	// replicas_min (a node down but not out still counts above).
	AtRisk      int64 `json:"at_risk"`
	AtRiskBytes int64 `json:"at_risk_bytes"`
	// Fetching: replicas that count but are not complete; FetchingBytes
	// what they still lack.
	Fetching      int64 `json:"fetching"`
	FetchingBytes int64 `json:"fetching_bytes"`
}

// copyRows is a CTE of every replica of a torrent not removed, with
// whether it counts, whether its node is up ($1 is NodeUpTTL in seconds)
// and its pieces complete; perTorrent adds each torrent's copies.
const copyRows = `WITH x AS (
	SELECT r.torrent_id, coalesce(t.total_length, 0) AS len, coalesce(t.piece_length, 0) AS plen,
		` + copySQL + ` AS counts, n.id IS NOT NULL AND ` + nodeUpSQL + ` AS up,
		CASE WHEN r.completed_at IS NOT NULL THEN t.piece_count ELSE (SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p
			WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) END AS done, coalesce(t.piece_count, 0) AS pieces
	FROM torrents t JOIN replicas r ON r.torrent_id = t.id
	LEFT JOIN nodes n ON n.id = r.node_id WHERE t.state <> 'removed'),
perTorrent AS (
	SELECT t.id, coalesce(t.total_length, 0) AS len, coalesce(t.replicas_min, c.replicas_min) AS rmin,
		count(x.torrent_id) FILTER (WHERE x.counts AND x.done >= x.pieces) AS copies,
		count(x.torrent_id) FILTER (WHERE x.counts AND x.done >= x.pieces AND x.up) AS up_copies
	FROM torrents t JOIN collections c ON c.id = t.collection_id LEFT JOIN x ON x.torrent_id = t.id
	WHERE t.state <> 'removed' GROUP BY t.id, c.replicas_min)`

// Copies reads CopyStats from the replicas table.
func (db *DB) Copies(ctx context.Context) (CopyStats, error) {
	st := CopyStats{}
	rows, err := db.pool.Query(ctx, copyRows+` SELECT copies, count(*) FROM perTorrent GROUP BY copies ORDER BY copies`,
		NodeUpTTL.Seconds())
	if err != nil {
		return st, fmt.Errorf("catalog: count copies per torrent: %w", err)
	}
	if st.ByCopies, err = pgx.CollectRows(rows, pgx.RowToStructByPos[CopyCount]); err != nil {
		return st, fmt.Errorf("catalog: count copies per torrent: %w", err)
	}
	err = db.pool.QueryRow(ctx, copyRows+` SELECT
		count(*) FILTER (WHERE copies < rmin), coalesce(sum(len) FILTER (WHERE copies < rmin), 0)::bigint,
		count(*) FILTER (WHERE up_copies < rmin), coalesce(sum(len) FILTER (WHERE up_copies < rmin), 0)::bigint,
		(SELECT count(*) FROM x WHERE counts AND done < pieces),
		(SELECT coalesce(sum(greatest(len - done * plen, 0)), 0) FROM x WHERE counts AND done < pieces)::bigint
		FROM perTorrent`, NodeUpTTL.Seconds()).
		Scan(&st.UnderMin, &st.UnderMinBytes, &st.AtRisk, &st.AtRiskBytes, &st.Fetching, &st.FetchingBytes)
	if err != nil {
		return st, fmt.Errorf("catalog: count copies per torrent: %w", err)
	}
	if st.ByCopies == nil {
		st.ByCopies = []CopyCount{}
	}
	return st, nil
}
