package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Stalled replicas (migration 019): a replica the planner placed
// (recovery or rebalance move) that is not complete and whose pieces
// recorded complete have not grown for fleet.recovery_stall_after is
// stalled: no node holding a copy is up, or none has what it lacks. It
// stays placed (it is still the best hope of a copy, and it counts as a
// copy as before), but it no longer counts as fetching: not in its node's
// recovery limit (PlanNode.Recovering), not in the pending bytes that
// choose recovery targets, and it does not hold the rebalance. It counts
// again as soon as a piece is recorded complete. See
// docs/ARCHITECTURE.md, "Replicas".

// StalledSQL is whether the placed replica r (not complete) is stalled,
// grown being the newest piece_chunks.grown_at of its chunks (an SQL
// expression, NULL for none) and stall the SQL parameter holding
// fleet.recovery_stall_after in seconds (0: never stalled). Its last
// progress is the later of grown and r.progress_at (placed, settled,
// completion changed, its node started).
func StalledSQL(grown, stall string) string {
	return `(` + stall + `::float8 > 0 AND greatest(r.progress_at, ` + grown + `) < now() - make_interval(secs => ` + stall + `::float8))`
}

// grownSQL is the newest growth of replica r's chunks.
const grownSQL = `(SELECT max(p.grown_at) FROM piece_chunks p WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id)`

// StalledReplica is a stalled replica (see StalledSQL).
type StalledReplica struct {
	TorrentID int64  `json:"torrent_id"`
	Name      string `json:"name"`
	InfoHash  string `json:"infohash"`
	Node      string `json:"node"`
	// MoveFrom: the source of the rebalance move it is ("" = a recovery).
	MoveFrom string `json:"move_from,omitempty"`
	// Since: its last progress (a piece recorded complete, or its
	// placement, settle or node start).
	Since     time.Time `json:"since"`
	BytesLeft int64     `json:"bytes_left"`
}

// StalledReplicas lists the stalled replicas of node (every node for
// ""), of torrents not removed and not marked for removal, stalled
// longest first, at most limit of them (at least 1), with how many there
// are in all. stall is fleet.recovery_stall_after; 0 lists none. The
// placed replicas not complete are found by the partial index
// replicas_fetching_idx (per node) and their chunks by piece_chunks' key.
func (db *DB) StalledReplicas(ctx context.Context, stall time.Duration, node string, limit int) ([]StalledReplica, int, error) {
	if stall <= 0 {
		return []StalledReplica{}, 0, nil
	}
	limit = max(limit, 1)
	where := ""
	if node != "" {
		where = " AND r.node_id = $3"
	}
	rows, err := db.pool.Query(ctx, `WITH s AS (
		SELECT t.id, t.name, encode(t.infohash, 'hex') AS ih, r.node_id, r.move_from, greatest(r.progress_at, d.grown) AS since,
			greatest(coalesce(t.total_length, 0) - coalesce(d.done, 0) * coalesce(t.piece_length, 0), 0)::bigint AS left_bytes
		FROM replicas r JOIN torrents t ON t.id = r.torrent_id
		LEFT JOIN LATERAL (SELECT sum(bit_count(p.complete)) AS done, max(p.grown_at) AS grown FROM piece_chunks p
			WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) d ON true
		WHERE r.placed_by <> '' AND r.completed_at IS NULL AND r.remove_at IS NULL AND t.state <> 'removed'`+where+`
			AND `+StalledSQL("d.grown", "$1")+`)
	SELECT id, name, ih, node_id, move_from, since, left_bytes, count(*) OVER ()::int
	FROM s WHERE left_bytes > 0 ORDER BY since, id, node_id LIMIT $2`, append([]any{stall.Seconds(), limit}, nodeArg(node)...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: list stalled replicas: %w", err)
	}
	out := []StalledReplica{}
	total := 0
	var s StalledReplica
	_, err = pgx.ForEachRow(rows, []any{&s.TorrentID, &s.Name, &s.InfoHash, &s.Node, &s.MoveFrom, &s.Since, &s.BytesLeft, &total}, func() error {
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: list stalled replicas: %w", err)
	}
	return out, total, nil
}

func nodeArg(node string) []any {
	if node == "" {
		return nil
	}
	return []any{node}
}
