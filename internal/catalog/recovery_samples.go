package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// recoverySampleKeep is how long a node keeps its recovery samples.
const recoverySampleKeep = 5 * time.Minute

// placedDoneSQL is, per replica r placed by the planner, the bytes of its
// pieces recorded complete (t: its torrent): all of them for a complete
// replica (replicas.completed_at set), whose pieces are not read.
const placedDoneSQL = `(CASE WHEN r.completed_at IS NOT NULL THEN coalesce(t.total_length, 0) ELSE
	least(coalesce((SELECT sum(bit_count(p.complete)) FROM piece_chunks p
	WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id), 0) * coalesce(t.piece_length, 0), coalesce(t.total_length, 0)) END)`

// SampleRecovery records how many bytes of the replicas placed on this
// handle's node are complete now, and forgets its samples older than 5
// minutes (the planner loop calls it at every pass).
func (db *DB) SampleRecovery(ctx context.Context) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO recovery_samples (node_id, done_bytes)
			SELECT $1, coalesce(sum(`+placedDoneSQL+`), 0) FROM replicas r JOIN torrents t ON t.id = r.torrent_id
			WHERE r.node_id = $1 AND r.placed_by <> ''`, db.NodeID()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM recovery_samples WHERE node_id = $1 AND sampled_at < clock_timestamp() - make_interval(secs => $2)`,
			db.NodeID(), recoverySampleKeep.Seconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: sample the recovery progress of node %q: %w", db.NodeID(), err)
	}
	return nil
}

// NodeRecovery is one node's recovery: the replicas placed on it still
// fetching, the bytes they lack, and its rate over the window; and those
// stalled (see StalledSQL), the bytes they lack and the last progress of
// the one stalled longest.
type NodeRecovery struct {
	Node         string     `json:"node"`
	Fetching     int64      `json:"fetching"`
	BytesLeft    int64      `json:"bytes_left"`
	Stalled      int64      `json:"stalled"`
	StalledBytes int64      `json:"stalled_bytes"`
	StalledSince *time.Time `json:"stalled_since,omitempty"`
	// WindowBytes: what the node's placed replicas gained between its
	// samples of the window (decreases, e.g. a replica removed, ignored),
	// over WindowSeconds from its first to its last sample there.
	WindowBytes   int64   `json:"window_bytes"`
	WindowSeconds float64 `json:"window_seconds"`
	BytesPerSec   float64 `json:"bytes_per_sec"`
}

// RecoveryStats is the fleet's recovery: the replicas placed by the
// planner not complete yet and not stalled, what they lack, how fast the
// nodes fetched over the window (the sum of the nodes' rates) and when,
// at that rate, it ends; and the stalled ones apart (no progress for
// StallAfter: they wait for a source and are not in the ETA).
type RecoveryStats struct {
	Fetching     int64      `json:"fetching"`
	BytesLeft    int64      `json:"bytes_left"`
	Stalled      int64      `json:"stalled"`
	StalledBytes int64      `json:"stalled_bytes"`
	StalledSince *time.Time `json:"stalled_since,omitempty"`
	// StallAfter: fleet.recovery_stall_after in seconds (0 = never).
	StallAfter  float64 `json:"stall_after_seconds"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	Window      float64 `json:"window_seconds"`
	// ETASeconds is BytesLeft / BytesPerSec; nil when nothing is left or
	// nothing was fetched in the window.
	ETASeconds *float64       `json:"eta_seconds"`
	Nodes      []NodeRecovery `json:"nodes"`
}

// Recovery reads RecoveryStats, the rate from the samples of the last
// window: per node, the increases between consecutive samples over the
// time between its first and last sample of the window. stall is
// fleet.recovery_stall_after (0 = a placed replica never stalls).
func (db *DB) Recovery(ctx context.Context, window, stall time.Duration) (RecoveryStats, error) {
	st := RecoveryStats{Window: window.Seconds(), StallAfter: stall.Seconds(), Nodes: []NodeRecovery{}}
	rows, err := db.pool.Query(ctx, `WITH pl AS (
		SELECT r.node_id, greatest(coalesce(t.total_length, 0) - least(coalesce(d.done, 0) * coalesce(t.piece_length, 0),
				coalesce(t.total_length, 0)), 0) AS left_bytes,
			`+StalledSQL("d.grown", "$2")+` AS stalled, greatest(r.progress_at, d.grown) AS since
		FROM replicas r JOIN torrents t ON t.id = r.torrent_id
		LEFT JOIN LATERAL (SELECT sum(bit_count(p.complete)) AS done, max(p.grown_at) AS grown FROM piece_chunks p
			WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) d ON true
		WHERE r.placed_by <> '' AND r.completed_at IS NULL AND r.remove_at IS NULL AND t.state <> 'removed'),
	left_ AS (
		SELECT node_id, count(*) FILTER (WHERE NOT stalled) AS fetching,
			coalesce(sum(left_bytes) FILTER (WHERE NOT stalled), 0)::bigint AS bytes_left,
			count(*) FILTER (WHERE stalled) AS stalled, coalesce(sum(left_bytes) FILTER (WHERE stalled), 0)::bigint AS stalled_bytes,
			min(since) FILTER (WHERE stalled) AS stalled_since
		FROM pl WHERE left_bytes > 0 GROUP BY node_id),
	s AS (
		SELECT node_id, sampled_at, done_bytes - lag(done_bytes) OVER w AS delta
		FROM recovery_samples WHERE sampled_at >= clock_timestamp() - make_interval(secs => $1)
		WINDOW w AS (PARTITION BY node_id ORDER BY sampled_at)),
	rate AS (
		SELECT node_id, coalesce(sum(greatest(delta, 0)), 0)::bigint AS bytes,
			extract(epoch FROM max(sampled_at) - min(sampled_at))::float8 AS secs
		FROM s GROUP BY node_id)
	SELECT coalesce(l.node_id, r.node_id), coalesce(l.fetching, 0), coalesce(l.bytes_left, 0),
		coalesce(l.stalled, 0), coalesce(l.stalled_bytes, 0), l.stalled_since,
		coalesce(r.bytes, 0), coalesce(r.secs, 0)
	FROM left_ l FULL JOIN rate r ON r.node_id = l.node_id
	WHERE coalesce(l.fetching, 0) > 0 OR coalesce(l.stalled, 0) > 0 OR coalesce(r.bytes, 0) > 0
	ORDER BY 1`, window.Seconds(), stall.Seconds())
	if err != nil {
		return st, fmt.Errorf("catalog: read the recovery progress: %w", err)
	}
	nodes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NodeRecovery, error) {
		var n NodeRecovery
		err := r.Scan(&n.Node, &n.Fetching, &n.BytesLeft, &n.Stalled, &n.StalledBytes, &n.StalledSince, &n.WindowBytes, &n.WindowSeconds)
		return n, err
	})
	if err != nil {
		return st, fmt.Errorf("catalog: read the recovery progress: %w", err)
	}
	for _, n := range nodes {
		if n.WindowSeconds > 0 {
			n.BytesPerSec = float64(n.WindowBytes) / n.WindowSeconds
		}
		st.Fetching += n.Fetching
		st.BytesLeft += n.BytesLeft
		st.Stalled += n.Stalled
		st.StalledBytes += n.StalledBytes
		if n.StalledSince != nil && (st.StalledSince == nil || n.StalledSince.Before(*st.StalledSince)) {
			st.StalledSince = n.StalledSince
		}
		st.BytesPerSec += n.BytesPerSec
		st.Nodes = append(st.Nodes, n)
	}
	if st.BytesLeft > 0 && st.BytesPerSec > 0 {
		eta := float64(st.BytesLeft) / st.BytesPerSec
		st.ETASeconds = &eta
	}
	return st, nil
}
