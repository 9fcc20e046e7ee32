package catalog

// A read-only snapshot across torrents, findings and verify_runs for the
// status page and the metrics (internal/httpapi).

import (
	"context"
	"fmt"
	"time"
)

// OpsStats are the catalog-derived numbers of the metrics and status page.
type OpsStats struct {
	// TorrentsByState counts torrents that are not removed, by state
	// (active, paused), except that unavailable torrents count under
	// "unavailable" whatever their state.
	TorrentsByState map[string]int
	// FindingsOpen counts findings not repaired.
	FindingsOpen int
	// LastSuccessfulVerify is the latest finished_at of a run of this
	// node in state done that covered everything due (scope {}: a
	// scheduled run, `archivd verify` or `verify --offline` without
	// arguments); nil when none has. A run of some torrents (a read check,
	// `archivd verify NAME`), or another node's run, says nothing about
	// the scrubbing of this node's data as a whole.
	LastSuccessfulVerify *time.Time
}

// OpsSnapshot reads OpsStats in one round trip.
func (db *DB) OpsSnapshot(ctx context.Context) (OpsStats, error) {
	st := OpsStats{TorrentsByState: map[string]int{"active": 0, "paused": 0, "unavailable": 0}}
	var byState map[string]int
	err := db.pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(jsonb_object_agg(s, n), '{}') FROM (
			SELECT CASE WHEN r.availability = 'unavailable' THEN 'unavailable' ELSE t.state END AS s, count(*) AS n
			FROM torrents t JOIN replicas r ON r.torrent_id = t.id AND r.node_id = $1 WHERE t.state <> 'removed' GROUP BY 1) x),
		(SELECT count(*) FROM findings WHERE state <> 'repaired' AND node_id = $1),
		(SELECT max(finished_at) FROM verify_runs WHERE state = 'done' AND scope = '{}'::jsonb
			AND node_id IS NOT DISTINCT FROM nullif($1, ''))`, db.NodeID()).Scan(&byState, &st.FindingsOpen, &st.LastSuccessfulVerify)
	if err != nil {
		return OpsStats{}, fmt.Errorf("catalog: read status counts: %w", err)
	}
	for s, n := range byState {
		st.TorrentsByState[s] = n
	}
	return st, nil
}
