package catalog

// Read-only queries behind the named health checks (internal/health) and
// the metrics derived from them. Every number here is catalog-wide: it
// counts the torrents of every node sharing the catalog.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TorrentRef names one torrent in a health check.
type TorrentRef struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	InfoHash   string `json:"infohash"`
	Collection string `json:"collection"`
	DataDir    string `json:"data_dir"`
	// Reason is why the torrent is named: its availability reason, or a
	// summary of its findings.
	Reason string `json:"reason,omitempty"`
	// Count is what the check counts of this torrent (findings, pieces).
	Count int64 `json:"count,omitempty"`
	// Bytes is the data the count covers, when the check counts data.
	Bytes int64 `json:"bytes,omitempty"`
	// Since is the oldest time involved (detection, last verification).
	Since *time.Time `json:"since,omitempty"`
}

const refCols = `t.id, t.name, encode(t.infohash, 'hex'), c.name, coalesce(rp.data_dir, t.data_dir)`

// refFrom joins this node's replicas (parameter $1): health is the node's.
const refFrom = ` FROM torrents t JOIN collections c ON c.id = t.collection_id
	JOIN replicas rp ON rp.torrent_id = t.id AND rp.node_id = $1`

// UnavailableTorrents lists torrents (not removed) whose data is marked
// unavailable, with the reason.
func (db *DB) UnavailableTorrents(ctx context.Context) ([]TorrentRef, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+refCols+`, rp.availability_reason, 0::bigint, t.total_length, rp.updated_at`+refFrom+`
		WHERE t.state <> 'removed' AND rp.availability = 'unavailable' ORDER BY t.name, t.id`, db.NodeID())
	return collectRefs(rows, err, "list unavailable torrents")
}

// DegradedTorrents lists torrents (not removed) that seed what they have
// but cannot write (disk full, quota, read-only, I/O error), with the
// cause in Reason's first word ("disk_full: ...").
func (db *DB) DegradedTorrents(ctx context.Context) ([]TorrentRef, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+refCols+`, rp.availability_cause || ': ' || rp.availability_reason, 0::bigint,
		t.total_length, rp.updated_at`+refFrom+`
		WHERE t.state <> 'removed' AND rp.availability = 'degraded' ORDER BY t.name, t.id`, db.NodeID())
	return collectRefs(rows, err, "list degraded torrents")
}

// TorrentsWithFindings lists torrents with findings in one of states,
// with how many pieces they cover and since when.
func (db *DB) TorrentsWithFindings(ctx context.Context, states []string) ([]TorrentRef, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+refCols+`,
		string_agg(DISTINCT f.kind || ' (' || f.state || ')', ', '), sum(f.piece_count), 0::bigint, min(f.detected_at)`+refFrom+`
		JOIN findings f ON f.torrent_id = t.id AND f.node_id = rp.node_id
		WHERE t.state <> 'removed' AND f.state = ANY($2)
		GROUP BY t.id, c.name, rp.data_dir ORDER BY t.name, t.id`, db.NodeID(), states)
	return collectRefs(rows, err, fmt.Sprintf("list torrents with findings %v", states))
}

// OverdueTorrents lists torrents with pieces not verified since their
// cutoff: the cutoff of their collection in cutoffs, else def. A range
// never verified counts from the time its torrent was added; a torrent
// with no ranges yet (never planned) counts whole. Count is pieces, Bytes
// their data, Since the oldest verification (or addition) time.
func (db *DB) OverdueTorrents(ctx context.Context, def time.Time, cutoffs map[int64]time.Time) ([]TorrentRef, error) {
	ids := make([]int64, 0, len(cutoffs))
	cuts := make([]time.Time, 0, len(cutoffs))
	for id, c := range cutoffs {
		ids, cuts = append(ids, id), append(cuts, c)
	}
	rows, err := db.pool.Query(ctx, `WITH pol AS (SELECT * FROM unnest($2::bigint[], $3::timestamptz[]) AS p(collection_id, cutoff)),
	tt AS (SELECT t.*, coalesce(p.cutoff, $4) AS cutoff FROM torrents t LEFT JOIN pol p ON p.collection_id = t.collection_id
		WHERE t.state <> 'removed' AND coalesce(t.piece_count, 0) > 0
			AND EXISTS (SELECT 1 FROM replicas rp WHERE rp.torrent_id = t.id AND rp.node_id = $1)),
	od AS (
		SELECT tt.id, sum(r.piece_count)::bigint AS pieces,
			sum(least(r.piece_count * tt.piece_length, tt.total_length - r.first_piece::bigint * tt.piece_length))::bigint AS bytes,
			min(coalesce(r.last_verified_at, tt.added_at)) AS oldest
		FROM tt JOIN verify_ranges r ON r.torrent_id = tt.id AND r.node_id = $1
		WHERE coalesce(r.last_verified_at, tt.added_at) < tt.cutoff GROUP BY tt.id
		UNION ALL
		SELECT tt.id, tt.piece_count, tt.total_length, tt.added_at FROM tt
		WHERE tt.added_at < tt.cutoff AND NOT EXISTS (SELECT 1 FROM verify_ranges r WHERE r.torrent_id = tt.id AND r.node_id = $1))
	SELECT `+refCols+`, '', od.pieces, od.bytes, od.oldest FROM od JOIN torrents t ON t.id = od.id
		JOIN collections c ON c.id = t.collection_id JOIN replicas rp ON rp.torrent_id = t.id AND rp.node_id = $1
		ORDER BY od.oldest, t.id`, db.NodeID(), ids, cuts, def)
	return collectRefs(rows, err, "list torrents overdue for verification")
}

func collectRefs(rows pgx.Rows, err error, what string) ([]TorrentRef, error) {
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TorrentRef, error) {
		var t TorrentRef
		return t, r.Scan(&t.ID, &t.Name, &t.InfoHash, &t.Collection, &t.DataDir, &t.Reason, &t.Count, &t.Bytes, &t.Since)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", what, err)
	}
	return out, nil
}

// DataRoots lists the directories torrent data lives under: every
// collection's data_root that is set and the parent directory of every
// torrent's data directory (the caller groups them by file system).
func (db *DB) DataRoots(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT data_root FROM collections WHERE data_root <> ''
		UNION SELECT regexp_replace(r.data_dir, '/[^/]+/?$', '') FROM torrents t
			JOIN replicas r ON r.torrent_id = t.id AND r.node_id = $1 WHERE t.state <> 'removed'`, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: list data roots: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("catalog: list data roots: %w", err)
	}
	return out, nil
}

// LastScheduledRun returns the latest finished scheduled run and whether
// a later run (of any kind, over the whole catalog) finished done after
// it; ok is false when no scheduled run has finished.
func (db *DB) LastScheduledRun(ctx context.Context) (run VerifyRun, caughtUp, ok bool, err error) {
	run, err = scanVerifyRun(db.pool.QueryRow(ctx, `SELECT `+verifyRunCols+` FROM verify_runs r
		WHERE kind = 'scheduled' AND finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1`))
	if err == pgx.ErrNoRows {
		return VerifyRun{}, false, false, nil
	}
	if err != nil {
		return VerifyRun{}, false, false, fmt.Errorf("catalog: read last scheduled verify run: %w", err)
	}
	err = db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM verify_runs WHERE id <> $1 AND state = 'done'
		AND finished_at >= $2 AND kind <> 'offline' AND scope = '{}'::jsonb)`, run.ID, run.FinishedAt).Scan(&caughtUp)
	if err != nil {
		return VerifyRun{}, false, false, fmt.Errorf("catalog: look for a run after verify run %d: %w", run.ID, err)
	}
	return run, caughtUp, true, nil
}

// RunCutByWindow starts the error text of a scheduled run stopped at the
// end of its window (ranges were left for the next window).
const RunCutByWindow = "window ended"

// Ping checks that the catalog answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("catalog: ping: %w", err)
	}
	return nil
}

// PoolStats is the use of this process's catalog connection pool.
type PoolStats struct {
	Acquired, Idle, Total, Max int32
	// EmptyAcquire counts acquisitions that had to wait for a connection;
	// AcquireWait is the time they waited in all.
	EmptyAcquire int64
	AcquireWait  time.Duration
}

// PoolStats reads the pool's counters (no query).
func (db *DB) PoolStats() PoolStats {
	s := db.pool.Stat()
	return PoolStats{Acquired: s.AcquiredConns(), Idle: s.IdleConns(), Total: s.TotalConns(), Max: s.MaxConns(),
		EmptyAcquire: s.EmptyAcquireCount(), AcquireWait: s.EmptyAcquireWaitTime()}
}

// ScrubTotals are the catalog-wide numbers of the metrics: data stored
// and complete, the oldest verification, and the active run's progress.
type ScrubTotals struct {
	StoredBytes   int64 // total length of the torrents not removed (metadata known)
	CompleteBytes int64 // of which recorded complete (whole pieces, last piece capped)
	// OldestVerified is the oldest last verification of any range (a
	// range never verified counts from its torrent's addition; a torrent
	// never planned counts whole); nil with no torrents.
	OldestVerified *time.Time
	// Active is the run queued or running first (nil: none).
	Active *VerifyRun
}

// ScrubTotals reads ScrubTotals.
func (db *DB) ScrubTotals(ctx context.Context) (ScrubTotals, error) {
	var st ScrubTotals
	err := db.pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(t.total_length), 0)::bigint FROM torrents t JOIN replicas rp ON rp.torrent_id = t.id AND rp.node_id = $1
			WHERE t.state <> 'removed'),
		(SELECT coalesce(sum(least(t.total_length, c.n * t.piece_length)), 0)::bigint FROM torrents t
			JOIN (SELECT torrent_id, sum(bit_count(complete)) AS n FROM piece_chunks WHERE node_id = $1 GROUP BY torrent_id) c
			ON c.torrent_id = t.id
			WHERE t.state <> 'removed'),
		(SELECT min(v) FROM (
			SELECT coalesce(r.last_verified_at, t.added_at) AS v FROM verify_ranges r JOIN torrents t ON t.id = r.torrent_id
				WHERE t.state <> 'removed' AND r.node_id = $1
			UNION ALL SELECT t.added_at FROM torrents t JOIN replicas rp ON rp.torrent_id = t.id AND rp.node_id = $1
				WHERE t.state <> 'removed' AND coalesce(t.piece_count, 0) > 0
				AND NOT EXISTS (SELECT 1 FROM verify_ranges r WHERE r.torrent_id = t.id AND r.node_id = $1)) x)`, db.NodeID()).
		Scan(&st.StoredBytes, &st.CompleteBytes, &st.OldestVerified)
	if err != nil {
		return ScrubTotals{}, fmt.Errorf("catalog: read scrub totals: %w", err)
	}
	run, err := scanVerifyRun(db.pool.QueryRow(ctx, `SELECT `+verifyRunCols+` FROM verify_runs r
		WHERE r.state IN ('queued', 'running') ORDER BY r.state = 'running' DESC, r.id LIMIT 1`))
	switch {
	case err == nil:
		st.Active = &run
	case err != pgx.ErrNoRows:
		return ScrubTotals{}, fmt.Errorf("catalog: read active verify run: %w", err)
	}
	return st, nil
}
