package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerifyRunTorrentsLeft lists the torrents of a run that still have jobs
// to do (pending, or running under a lease).
func (db *DB) VerifyRunTorrentsLeft(ctx context.Context, runID int64) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT torrent_id FROM verify_jobs
		WHERE run_id = $1 AND state IN ('pending', 'running') ORDER BY torrent_id`, runID)
	if err != nil {
		return nil, fmt.Errorf("catalog: torrents left in verify run %d: %w", runID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("catalog: torrents left in verify run %d: %w", runID, err)
	}
	return ids, nil
}

// ClaimVerifyJobAmong is ClaimVerifyJob restricted to jobs of the given
// torrents (one device's, when a run reads several devices in parallel).
func (db *DB) ClaimVerifyJobAmong(ctx context.Context, runID int64, torrents []int64, owner string, now time.Time, lease time.Duration) (VerifyJob, bool, error) {
	var j VerifyJob
	err := db.pool.QueryRow(ctx, `UPDATE verify_jobs SET state = 'running', lease_owner = $2, lease_expires_at = $4,
		attempts = attempts + 1, updated_at = $3
		WHERE id = (SELECT id FROM verify_jobs WHERE run_id = $1 AND torrent_id = ANY($5)
			AND (state = 'pending' OR (state = 'running' AND lease_expires_at < $3))
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id, run_id, torrent_id, first_piece, piece_count, attempts`,
		runID, owner, now, now.Add(lease), torrents).Scan(&j.ID, &j.RunID, &j.TorrentID, &j.First, &j.Count, &j.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return VerifyJob{}, false, nil
	}
	if err != nil {
		return VerifyJob{}, false, fmt.Errorf("catalog: claim verify job of run %d among %d torrents: %w", runID, len(torrents), err)
	}
	return j, true, nil
}
