package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnsureVerifyRanges lays a torrent's pieces out in ranges of perRange
// pieces. Existing ranges of the same layout keep their history; a changed
// layout (range_bytes changed) starts over.
func (db *DB) EnsureVerifyRanges(ctx context.Context, torrentID int64, pieceCount, perRange int) error {
	if pieceCount <= 0 || perRange <= 0 {
		return nil
	}
	want := (pieceCount + perRange - 1) / perRange
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var n, bad int
		err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE first_piece % $2 <> 0 OR
			piece_count <> least($2, $3 - first_piece)) FROM verify_ranges WHERE torrent_id = $1 AND node_id = $4`,
			torrentID, perRange, pieceCount, db.NodeID()).Scan(&n, &bad)
		if err != nil || (n == want && bad == 0) {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM verify_ranges WHERE torrent_id = $1 AND node_id = $2`, torrentID, db.NodeID()); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO verify_ranges (torrent_id, node_id, first_piece, piece_count)
			SELECT $1, $4, f, least($2, $3 - f) FROM generate_series(0, $3 - 1, $2) AS f`, torrentID, perRange, pieceCount, db.NodeID())
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: lay out verify ranges of torrent %d: %w", torrentID, err)
	}
	return nil
}

// PlanVerifyJobs adds a job for every range of the torrents that is due:
// never verified, or verified before dueBefore (nil: every range). Jobs
// are numbered least recently verified first, and claimed in that order.
// It returns the number of jobs and the bytes they cover.
func (db *DB) PlanVerifyJobs(ctx context.Context, runID int64, torrentIDs []int64, dueBefore *time.Time) (int, int64, error) {
	var jobs int
	var bytes int64
	err := db.pool.QueryRow(ctx, `WITH ins AS (
		INSERT INTO verify_jobs (run_id, torrent_id, first_piece, piece_count)
		SELECT $1, r.torrent_id, r.first_piece, r.piece_count FROM verify_ranges r
		WHERE r.torrent_id = ANY($2) AND r.node_id = $4 AND ($3::timestamptz IS NULL OR r.last_verified_at IS NULL OR r.last_verified_at < $3)
		ORDER BY r.last_verified_at NULLS FIRST, r.torrent_id, r.first_piece
		RETURNING torrent_id, first_piece, piece_count)
		SELECT count(*), coalesce(sum(least(ins.piece_count * t.piece_length, t.total_length - ins.first_piece * t.piece_length)), 0)
		FROM ins JOIN torrents t ON t.id = ins.torrent_id`, runID, torrentIDs, dueBefore, db.NodeID()).Scan(&jobs, &bytes)
	if err != nil {
		return 0, 0, fmt.Errorf("catalog: plan verify run %d: %w", runID, err)
	}
	return jobs, bytes, nil
}

// VerifyJob is a leased unit of work: one range of one torrent.
type VerifyJob struct {
	ID        int64
	RunID     int64
	TorrentID int64
	First     int
	Count     int
	Attempts  int
}

// ClaimVerifyJob leases the next job of a run: a pending one, or a running
// one whose lease has expired (its worker died). The claim commits at once;
// the work happens outside any transaction.
func (db *DB) ClaimVerifyJob(ctx context.Context, runID int64, owner string, now time.Time, lease time.Duration) (VerifyJob, bool, error) {
	var j VerifyJob
	err := db.pool.QueryRow(ctx, `UPDATE verify_jobs SET state = 'running', lease_owner = $2, lease_expires_at = $4,
		attempts = attempts + 1, updated_at = $3
		WHERE id = (SELECT id FROM verify_jobs WHERE run_id = $1
			AND (state = 'pending' OR (state = 'running' AND lease_expires_at < $3))
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id, run_id, torrent_id, first_piece, piece_count, attempts`,
		runID, owner, now, now.Add(lease)).Scan(&j.ID, &j.RunID, &j.TorrentID, &j.First, &j.Count, &j.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return VerifyJob{}, false, nil
	}
	if err != nil {
		return VerifyJob{}, false, fmt.Errorf("catalog: claim verify job of run %d: %w", runID, err)
	}
	return j, true, nil
}

// ErrLeaseLost is returned when a job's lease was taken over.
var ErrLeaseLost = errors.New("verify job lease lost")

// ExtendVerifyLease moves a job's lease to until, if owner still holds it.
func (db *DB) ExtendVerifyLease(ctx context.Context, jobID int64, owner string, until time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE verify_jobs SET lease_expires_at = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
		jobID, owner, until)
	if err != nil {
		return fmt.Errorf("catalog: extend lease of verify job %d: %w", jobID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("catalog: extend lease of verify job %d: %w", jobID, ErrLeaseLost)
	}
	return nil
}

// RemainingVerifyJobs counts a run's jobs not done.
func (db *DB) RemainingVerifyJobs(ctx context.Context, runID int64) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM verify_jobs WHERE run_id = $1 AND state IN ('pending', 'running')`, runID).Scan(&n); err != nil {
		return 0, fmt.Errorf("catalog: count jobs of verify run %d: %w", runID, err)
	}
	return n, nil
}

// FailVerifyJob marks a job failed (it is not retried in this run).
func (db *DB) FailVerifyJob(ctx context.Context, jobID int64, errText string, now time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE verify_jobs SET state = 'failed', error = $2, updated_at = $3 WHERE id = $1`, jobID, errText, now); err != nil {
		return fmt.Errorf("catalog: fail verify job %d: %w", jobID, err)
	}
	return nil
}

// VerifyTorrentStat is a torrent's share of a run.
type VerifyTorrentStat struct {
	TorrentID     int64
	PiecesChecked int64
	PiecesFailed  int64
}

// VerifyRunTorrentStats returns, per torrent of a run, the pieces checked
// (of done ranges) and the pieces of the findings it saw that are not repaired.
func (db *DB) VerifyRunTorrentStats(ctx context.Context, runID int64) ([]VerifyTorrentStat, error) {
	rows, err := db.pool.Query(ctx, `SELECT j.torrent_id, sum(j.piece_count)::bigint,
		(SELECT coalesce(sum(f.piece_count), 0)::bigint FROM findings f
			WHERE f.last_run_id = $1 AND f.torrent_id = j.torrent_id AND f.state <> 'repaired')
		FROM verify_jobs j WHERE j.run_id = $1 AND j.state = 'done' GROUP BY j.torrent_id ORDER BY j.torrent_id`, runID)
	if err != nil {
		return nil, fmt.Errorf("catalog: per-torrent totals of verify run %d: %w", runID, err)
	}
	st, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VerifyTorrentStat, error) {
		var s VerifyTorrentStat
		return s, r.Scan(&s.TorrentID, &s.PiecesChecked, &s.PiecesFailed)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: per-torrent totals of verify run %d: %w", runID, err)
	}
	return st, nil
}
