package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Operator control of verify runs: the CLI writes the wish, the daemon's
// verify service (or the offline run's process) honours it within a second.

// ErrRunNotRunning is returned (wrapped) when a run cannot be paused,
// resumed or cancelled in its current state.
var ErrRunNotRunning = errors.New("not in a state that allows it")

// OperatorCancelled is the error text of a run cancelled by an operator.
const OperatorCancelled = "cancelled by the operator"

// PauseVerifyRun holds a running run: the service stops hashing and gives
// its range back; the run keeps its place (nothing else starts meanwhile).
func (db *DB) PauseVerifyRun(ctx context.Context, id int64, now time.Time) error {
	return db.controlRun(ctx, id, "pause", `UPDATE verify_runs SET paused_at = $2
		WHERE id = $1 AND state = 'running' AND paused_at IS NULL`, now)
}

// ResumeVerifyRun lets a paused run go on.
func (db *DB) ResumeVerifyRun(ctx context.Context, id int64) error {
	return db.controlRun(ctx, id, "resume", `UPDATE verify_runs SET paused_at = NULL
		WHERE id = $1 AND state = 'running' AND paused_at IS NOT NULL`)
}

// CancelVerifyRun ends a queued, running or paused run as cancelled; its
// jobs not done are dropped, as at a window's end.
func (db *DB) CancelVerifyRun(ctx context.Context, id int64, now time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE verify_runs SET state = 'cancelled', error = $2, finished_at = $3, paused_at = NULL
			WHERE id = $1 AND state IN ('queued', 'running')`, id, OperatorCancelled, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return runStateErr(ctx, tx, id)
		}
		_, err = tx.Exec(ctx, `DELETE FROM verify_jobs WHERE run_id = $1 AND state IN ('pending', 'running')`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: cancel verify run %d: %w", id, err)
	}
	return nil
}

func (db *DB) controlRun(ctx context.Context, id int64, what, q string, args ...any) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q, append([]any{id}, args...)...)
		if err == nil && tag.RowsAffected() == 0 {
			return runStateErr(ctx, tx, id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: %s verify run %d: %w", what, id, err)
	}
	return nil
}

// runStateErr says why a run could not be controlled.
func runStateErr(ctx context.Context, tx pgx.Tx, id int64) error {
	var state RunState
	var paused *time.Time
	err := tx.QueryRow(ctx, `SELECT state, paused_at FROM verify_runs WHERE id = $1`, id).Scan(&state, &paused)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	case paused != nil:
		return fmt.Errorf("it is paused: %w", ErrRunNotRunning)
	}
	return fmt.Errorf("it is %s: %w", state, ErrRunNotRunning)
}

// RunControl is what the executing process must honour.
type RunControl int

const (
	RunGoOn RunControl = iota
	RunPaused
	RunStopped // cancelled (or otherwise finished) from outside
)

// VerifyRunControl reads whether a run may go on.
func (db *DB) VerifyRunControl(ctx context.Context, id int64) (RunControl, error) {
	var state RunState
	var paused bool
	err := db.pool.QueryRow(ctx, `SELECT state, paused_at IS NOT NULL FROM verify_runs WHERE id = $1`, id).Scan(&state, &paused)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return RunStopped, nil
	case err != nil:
		return RunGoOn, fmt.Errorf("catalog: read control of verify run %d: %w", id, err)
	case state.Finished():
		return RunStopped, nil
	case paused:
		return RunPaused, nil
	}
	return RunGoOn, nil
}

// ReleaseVerifyJobs gives back the jobs of a run that owner holds
// (pending, no lease) when it stops for a pause: the next claim takes
// them at once instead of after the lease expires.
func (db *DB) ReleaseVerifyJobs(ctx context.Context, runID int64, owner string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE verify_jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL
		WHERE run_id = $1 AND lease_owner = $2 AND state = 'running'`, runID, owner); err != nil {
		return fmt.Errorf("catalog: release jobs of verify run %d: %w", runID, err)
	}
	return nil
}

// ActiveVerifyRuns lists the runs queued or running (paused included),
// oldest first.
func (db *DB) ActiveVerifyRuns(ctx context.Context) ([]VerifyRun, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+verifyRunCols+` FROM verify_runs r WHERE r.state IN ('queued', 'running') ORDER BY r.id`)
	if err != nil {
		return nil, fmt.Errorf("catalog: list active verify runs: %w", err)
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VerifyRun, error) { return scanVerifyRun(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list active verify runs: %w", err)
	}
	return rs, nil
}
