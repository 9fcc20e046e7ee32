package catalog

import (
	"context"
	"fmt"
	"time"
)

// Retention: the tables that only grow (events, verify_jobs, verify_runs,
// findings, peers) are pruned in batches of at most batch rows per
// statement, so that no delete holds locks or bloats WAL for long. Each
// Prune method returns the rows deleted.

// PruneEvents deletes events older than before.
func (db *DB) PruneEvents(ctx context.Context, before time.Time, batch int) (int64, error) {
	return db.deleteBatches(ctx, "events", `DELETE FROM events WHERE id IN (
		SELECT id FROM events WHERE at < $1 ORDER BY id LIMIT $2)`, before, batch)
}

// PruneVerifyJobs deletes the jobs of runs that finished before before
// (a running run needs its jobs to resume; a recent one, for its report).
func (db *DB) PruneVerifyJobs(ctx context.Context, before time.Time, batch int) (int64, error) {
	return db.deleteBatches(ctx, "finished verify jobs", `DELETE FROM verify_jobs WHERE id IN (
		SELECT j.id FROM verify_jobs j JOIN verify_runs r ON r.id = j.run_id
		WHERE r.finished_at < $1 ORDER BY j.id LIMIT $2)`, before, batch)
}

// PruneVerifyRuns deletes finished runs but the keep most recent ones and
// any a finding not yet repaired refers to (its report must stay whole).
func (db *DB) PruneVerifyRuns(ctx context.Context, keep, batch int) (int64, error) {
	return db.deleteBatches(ctx, "verify runs", `DELETE FROM verify_runs WHERE id IN (
		SELECT r.id FROM verify_runs r
		WHERE r.finished_at IS NOT NULL
		AND r.id < coalesce((SELECT min(id) FROM (SELECT id FROM verify_runs ORDER BY id DESC LIMIT $1) k), 0)
		AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.run_id = r.id AND f.state <> 'repaired')
		ORDER BY r.id LIMIT $2)`, keep, batch)
}

// PruneFindings deletes findings repaired before before.
func (db *DB) PruneFindings(ctx context.Context, before time.Time, batch int) (int64, error) {
	return db.deleteBatches(ctx, "repaired findings", `DELETE FROM findings WHERE id IN (
		SELECT id FROM findings WHERE state = 'repaired' AND repaired_at < $1 ORDER BY id LIMIT $2)`, before, batch)
}

// ForgetOldPeers deletes peers not seen since before.
func (db *DB) ForgetOldPeers(ctx context.Context, before time.Time, batch int) (int64, error) {
	return db.deleteBatches(ctx, "peers not seen lately", `DELETE FROM peers WHERE ctid IN (
		SELECT ctid FROM peers WHERE last_seen_at < $1 LIMIT $2)`, before, batch)
}

// deleteBatches runs q (whose last parameter is the batch size) until a
// batch deletes fewer rows than batch; each batch commits on its own.
func (db *DB) deleteBatches(ctx context.Context, what, q string, arg any, batch int) (int64, error) {
	if batch <= 0 {
		return 0, fmt.Errorf("catalog: prune %s: batch size %d is not positive", what, batch)
	}
	var total int64
	for {
		tag, err := db.pool.Exec(ctx, q, arg, batch)
		if err != nil {
			return total, fmt.Errorf("catalog: prune %s: %w", what, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return total, nil
		}
	}
}
