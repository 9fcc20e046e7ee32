package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerifyRun is one verification run and its running totals.
type VerifyRun struct {
	ID   int64   `json:"id"`
	Kind RunKind `json:"kind"`
	// Scope is the run's JSON scope: {"collections": [...], "torrents": [...]}.
	Scope          json.RawMessage `json:"scope"`
	State          RunState        `json:"state"`
	NodeID         string          `json:"node_id"`
	RequestedAt    time.Time       `json:"requested_at"`
	StartedAt      *time.Time      `json:"started_at,omitempty"`
	FinishedAt     *time.Time      `json:"finished_at,omitempty"`
	BytesPlanned   int64           `json:"bytes_planned"`
	BytesHashed    int64           `json:"bytes_hashed"`
	PiecesChecked  int64           `json:"pieces_checked"`
	PiecesFailed   int64           `json:"pieces_failed"`
	PiecesRepaired int64           `json:"pieces_repaired"`
	Error          string          `json:"error,omitempty"`
	// Findings counts the findings (ranges) this run found or saw again.
	Findings int `json:"findings"`
	// PausedAt is set while an operator holds the run paused (its state
	// stays running).
	PausedAt *time.Time `json:"paused_at,omitempty"`
}

// verifyRunCols is the one column list of a run; every query names the
// table r.
const verifyRunCols = `r.id, r.kind, r.scope, r.state, coalesce(r.node_id, ''), r.requested_at, r.started_at,
	r.finished_at, r.bytes_planned, r.bytes_hashed, r.pieces_checked, r.pieces_failed, r.pieces_repaired,
	r.error, (SELECT count(*) FROM findings f WHERE f.run_id = r.id OR f.last_run_id = r.id), r.paused_at`

func scanVerifyRun(row pgx.Row) (VerifyRun, error) {
	var r VerifyRun
	err := row.Scan(&r.ID, &r.Kind, &r.Scope, &r.State, &r.NodeID, &r.RequestedAt, &r.StartedAt,
		&r.FinishedAt, &r.BytesPlanned, &r.BytesHashed, &r.PiecesChecked, &r.PiecesFailed, &r.PiecesRepaired,
		&r.Error, &r.Findings, &r.PausedAt)
	return r, err
}

// CreateVerifyRun queues a run; the insert wakes daemons through NOTIFY.
func (db *DB) CreateVerifyRun(ctx context.Context, kind RunKind, scope []byte, nodeID string, now time.Time) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO verify_runs (kind, scope, node_id, requested_at) VALUES ($1, $2, nullif($3, ''), $4) RETURNING id`,
		kind, scope, nodeID, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("catalog: queue %s verify run: %w", kind, err)
	}
	return id, nil
}

// RequestReadCheck queues a read_error run of one torrent (by infohash,
// hex) on this handle's node, unless one of that torrent is queued or
// running there; it returns the run's id and whether it queued it. The
// insert wakes the daemon through NOTIFY.
func (db *DB) RequestReadCheck(ctx context.Context, infoHash string, now time.Time) (int64, bool, error) {
	scope, err := json.Marshal(map[string][]string{"torrents": {infoHash}})
	if err != nil {
		return 0, false, fmt.Errorf("catalog: queue a read check of %s: %w", infoHash, err)
	}
	var id int64
	queued := true
	err = db.pool.QueryRow(ctx, `WITH pending AS (
			SELECT id FROM verify_runs WHERE kind = 'read_error' AND state IN ('queued', 'running')
			AND node_id IS NOT DISTINCT FROM nullif($2, '') AND scope = $1::jsonb ORDER BY id LIMIT 1),
		ins AS (
			INSERT INTO verify_runs (kind, scope, node_id, requested_at)
			SELECT 'read_error', $1::jsonb, nullif($2, ''), $3 WHERE NOT EXISTS (SELECT 1 FROM pending)
			RETURNING id)
		SELECT id, true FROM ins UNION ALL SELECT id, false FROM pending`, scope, db.NodeID(), now).Scan(&id, &queued)
	if err != nil {
		return 0, false, fmt.Errorf("catalog: queue a read check of %s: %w", infoHash, err)
	}
	return id, queued, nil
}

// ClaimVerifyRun takes the oldest queued run of one of kinds for nodeID:
// a run requested for that node (the CLI requests runs for its config's
// node, the one whose replicas it verifies) or for no node in particular
// (claim-then-commit: the row is locked with SKIP LOCKED and set running
// in one statement, so two daemons never start the same run).
func (db *DB) ClaimVerifyRun(ctx context.Context, kinds []RunKind, nodeID string, now time.Time) (VerifyRun, bool, error) {
	r, err := scanVerifyRun(db.pool.QueryRow(ctx, `UPDATE verify_runs r SET state = 'running', started_at = $3, node_id = $2
		WHERE r.id = (SELECT id FROM verify_runs WHERE state = 'queued' AND kind = ANY($1)
			AND (node_id IS NULL OR node_id = $2) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+verifyRunCols, kinds, nodeID, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return VerifyRun{}, false, nil
	}
	if err != nil {
		return VerifyRun{}, false, fmt.Errorf("catalog: claim verify run: %w", err)
	}
	return r, true, nil
}

// VerifyRunByID returns one run; id 0 means the latest run.
func (db *DB) VerifyRunByID(ctx context.Context, id int64) (VerifyRun, error) {
	q := `SELECT ` + verifyRunCols + ` FROM verify_runs r WHERE r.id = $1`
	if id == 0 {
		q = `SELECT ` + verifyRunCols + ` FROM verify_runs r WHERE $1 = 0 ORDER BY r.id DESC LIMIT 1`
	}
	r, err := scanVerifyRun(db.pool.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return VerifyRun{}, fmt.Errorf("catalog: verify run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return VerifyRun{}, fmt.Errorf("catalog: read verify run %d: %w", id, err)
	}
	return r, nil
}

// UnfinishedVerifyRuns lists this node's runs left running (by a crashed
// process or the current one) of the given kinds, oldest first.
func (db *DB) UnfinishedVerifyRuns(ctx context.Context, kinds []RunKind, nodeID string) ([]VerifyRun, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+verifyRunCols+` FROM verify_runs r
		WHERE r.state = 'running' AND r.kind = ANY($1) AND r.node_id = $2 ORDER BY r.id`, kinds, nodeID)
	if err != nil {
		return nil, fmt.Errorf("catalog: list unfinished verify runs: %w", err)
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VerifyRun, error) { return scanVerifyRun(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list unfinished verify runs: %w", err)
	}
	return rs, nil
}

// FinishVerifyRun ends a run with state done, failed or cancelled; jobs
// not done are dropped (their ranges keep their old verification time, so
// the planner picks them first next time).
func (db *DB) FinishVerifyRun(ctx context.Context, id int64, state RunState, errText string, now time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM verify_jobs WHERE run_id = $1 AND state IN ('pending', 'running')`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE verify_runs SET state = $2, error = $3, finished_at = $4 WHERE id = $1`, id, state, errText, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: finish verify run %d: %w", id, err)
	}
	return nil
}

// SetVerifyRunPlanned records the bytes a run plans to read.
func (db *DB) SetVerifyRunPlanned(ctx context.Context, id, bytes int64) error {
	if _, err := db.pool.Exec(ctx, `UPDATE verify_runs SET bytes_planned = $2 WHERE id = $1`, id, bytes); err != nil {
		return fmt.Errorf("catalog: record plan of verify run %d: %w", id, err)
	}
	return nil
}

// VerifyRuns returns the latest limit verification runs, newest first.
func (db *DB) VerifyRuns(ctx context.Context, limit int) ([]VerifyRun, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+verifyRunCols+` FROM verify_runs r ORDER BY r.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("catalog: list verify runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VerifyRun, error) { return scanVerifyRun(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list verify runs: %w", err)
	}
	return out, nil
}

// LastFinishedVerifyRun returns the most recent run that has finished (any result),
// or ok=false when none has.
func (db *DB) LastFinishedVerifyRun(ctx context.Context) (r VerifyRun, ok bool, err error) {
	r, err = scanVerifyRun(db.pool.QueryRow(ctx, `SELECT `+verifyRunCols+` FROM verify_runs r
		WHERE r.finished_at IS NOT NULL ORDER BY r.finished_at DESC, r.id DESC LIMIT 1`))
	if errors.Is(err, pgx.ErrNoRows) {
		return VerifyRun{}, false, nil
	}
	if err != nil {
		return VerifyRun{}, false, fmt.Errorf("catalog: read last verify run: %w", err)
	}
	return r, true, nil
}

// RunSkippedByWindow starts the error text of a scheduled run cancelled
// because its window closed before any daemon started it (the node was
// busy with another run all window, or its catalog did not answer).
const RunSkippedByWindow = "skipped: window ended before the run started"

// QueuedScheduledRun returns nodeID's queued scheduled run (the oldest if
// there were several); ok is false when there is none.
func (db *DB) QueuedScheduledRun(ctx context.Context, nodeID string) (r VerifyRun, ok bool, err error) {
	r, err = scanVerifyRun(db.pool.QueryRow(ctx, `SELECT `+verifyRunCols+` FROM verify_runs r
		WHERE r.state = 'queued' AND r.kind = 'scheduled' AND r.node_id = $1 ORDER BY r.id LIMIT 1`, nodeID))
	if errors.Is(err, pgx.ErrNoRows) {
		return VerifyRun{}, false, nil
	}
	if err != nil {
		return VerifyRun{}, false, fmt.Errorf("catalog: read queued scheduled verify run of node %q: %w", nodeID, err)
	}
	return r, true, nil
}

// SkipQueuedScheduledRuns cancels nodeID's scheduled runs still queued
// (none started them in their window), with error text
// RunSkippedByWindow plus why, and returns their ids. A run claimed
// meanwhile is running, not queued, and is left alone.
func (db *DB) SkipQueuedScheduledRuns(ctx context.Context, nodeID, why string, now time.Time) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `UPDATE verify_runs SET state = 'cancelled', error = $2, finished_at = $3
		WHERE state = 'queued' AND kind = 'scheduled' AND node_id = $1 RETURNING id`,
		nodeID, RunSkippedByWindow+": "+why, now)
	if err != nil {
		return nil, fmt.Errorf("catalog: skip queued scheduled verify runs of node %q: %w", nodeID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("catalog: skip queued scheduled verify runs of node %q: %w", nodeID, err)
	}
	return ids, nil
}
