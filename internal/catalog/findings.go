package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerifyFinding is a piece that failed verification.
type VerifyFinding struct {
	ID           int64        `json:"id"`
	RunID        int64        `json:"run_id"`
	TorrentID    int64        `json:"torrent_id"`
	Piece        int          `json:"piece"`
	FileIndex    int          `json:"file_index"` // -1: none
	FilePath     string       `json:"file_path"`
	FileOffset   int64        `json:"file_offset"`
	Kind         FindingKind  `json:"kind"`
	Detail       string       `json:"detail,omitempty"`
	State        FindingState `json:"state"`
	DetectedAt   time.Time    `json:"detected_at"`
	RepairedAt   *time.Time   `json:"repaired_at,omitempty"`
	RepairSource string       `json:"repair_source,omitempty"`
}

// VerifyJobResult is what a finished job stores.
type VerifyJobResult struct {
	BytesHashed   int64
	PiecesChecked int64
	Findings      []VerifyFinding // RunID/TorrentID/State filled by the caller
}

// CompleteVerifyJob stores a job's outcome in one transaction: findings,
// the range's verification time and the run's totals. A crash before it
// commits repeats this one range; after, nothing.
func (db *DB) CompleteVerifyJob(ctx context.Context, j VerifyJob, owner string, res VerifyJobResult, now time.Time) error {
	result := RangeOK
	if len(res.Findings) > 0 {
		result = RangeFailed
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE verify_jobs SET state = 'done', bytes_done = $3, updated_at = $4
			WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, j.ID, owner, res.BytesHashed, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrLeaseLost
		}
		if err := insertFindings(ctx, tx, res.Findings, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE verify_ranges SET last_verified_at = $4, last_result = $5, last_run_id = $6
			WHERE torrent_id = $1 AND first_piece = $2 AND piece_count = $3`, j.TorrentID, j.First, j.Count, now, result, j.RunID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE verify_runs SET bytes_hashed = bytes_hashed + $2, pieces_checked = pieces_checked + $3,
			pieces_failed = pieces_failed + $4 WHERE id = $1`, j.RunID, res.BytesHashed, res.PiecesChecked, len(res.Findings))
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: complete verify job %d: %w", j.ID, err)
	}
	return nil
}

func insertFindings(ctx context.Context, tx pgx.Tx, fs []VerifyFinding, now time.Time) error {
	for _, f := range fs {
		var idx *int
		var off *int64
		if f.FileIndex >= 0 {
			idx, off = &f.FileIndex, &f.FileOffset
		}
		if f.State == "" {
			f.State = FindingOpen
		}
		if _, err := tx.Exec(ctx, `INSERT INTO findings (run_id, torrent_id, piece, file_index, file_path, file_offset, kind, detail, state, detected_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			f.RunID, f.TorrentID, f.Piece, idx, f.FilePath, off, f.Kind, f.Detail, f.State, now); err != nil {
			return fmt.Errorf("store finding of piece %d: %w", f.Piece, err)
		}
	}
	return nil
}

// VerifyFindingFilter selects findings; zero fields match all.
type VerifyFindingFilter struct {
	RunID     int64
	TorrentID int64
	States    []FindingState
	Limit     int // 0: all
}

// VerifyFindings lists findings by torrent and piece.
func (db *DB) VerifyFindings(ctx context.Context, f VerifyFindingFilter) ([]VerifyFinding, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, coalesce(run_id, 0), torrent_id, piece, coalesce(file_index, -1), file_path,
		coalesce(file_offset, 0), kind, detail, state, detected_at, repaired_at, repair_source FROM findings
		WHERE ($1 = 0 OR run_id = $1) AND ($2 = 0 OR torrent_id = $2) AND (coalesce(cardinality($3::text[]), 0) = 0 OR state = ANY($3))
		ORDER BY torrent_id, piece, id LIMIT nullif($4, 0)`, f.RunID, f.TorrentID, f.States, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("catalog: list findings: %w", err)
	}
	fs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VerifyFinding, error) {
		var v VerifyFinding
		return v, r.Scan(&v.ID, &v.RunID, &v.TorrentID, &v.Piece, &v.FileIndex, &v.FilePath, &v.FileOffset,
			&v.Kind, &v.Detail, &v.State, &v.DetectedAt, &v.RepairedAt, &v.RepairSource)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list findings: %w", err)
	}
	return fs, nil
}

// SetVerifyFindingsState moves findings to state (repairing, held, open).
func (db *DB) SetVerifyFindingsState(ctx context.Context, ids []int64, state FindingState) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE findings SET state = $2 WHERE id = ANY($1) AND state <> 'repaired'`, ids, state); err != nil {
		return fmt.Errorf("catalog: set %d findings %s: %w", len(ids), state, err)
	}
	return nil
}

// RepairVerifyFindings closes findings as repaired and counts the repaired
// pieces on the runs that found them.
func (db *DB) RepairVerifyFindings(ctx context.Context, ids []int64, source string, now time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `WITH done AS (
			UPDATE findings SET state = 'repaired', repaired_at = $3, repair_source = $2
			WHERE id = ANY($1) AND state <> 'repaired' RETURNING run_id)
			UPDATE verify_runs r SET pieces_repaired = r.pieces_repaired + d.n
			FROM (SELECT run_id, count(*) AS n FROM done WHERE run_id IS NOT NULL GROUP BY run_id) d WHERE r.id = d.run_id`,
			ids, source, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: close %d repaired findings: %w", len(ids), err)
	}
	return nil
}

// FindingView is one finding with the torrent it belongs to.
type FindingView struct {
	ID           int64        `json:"id"`
	RunID        *int64       `json:"run_id,omitempty"`
	TorrentID    int64        `json:"torrent_id"`
	InfoHash     string       `json:"infohash"`
	TorrentName  string       `json:"torrent_name"`
	Collection   string       `json:"collection"`
	Piece        int          `json:"piece"`
	FileIndex    *int         `json:"file_index,omitempty"`
	FilePath     string       `json:"file_path"`
	FileOffset   *int64       `json:"file_offset,omitempty"`
	Kind         FindingKind  `json:"kind"`
	Detail       string       `json:"detail"`
	State        FindingState `json:"state"`
	DetectedAt   time.Time    `json:"detected_at"`
	RepairedAt   *time.Time   `json:"repaired_at,omitempty"`
	RepairSource string       `json:"repair_source,omitempty"`
}

// FindingFilterView narrows FindingViews. State is a finding state
// (open, repairing, repaired, held), "unresolved" (anything not repaired)
// or "" (all). RunID 0 = any run. Limit caps the rows (newest first).
type FindingFilterView struct {
	State string
	RunID int64
	Limit int
}

// FindingStates are the states a finding can be in, plus the "unresolved"
// pseudo-state FindingViews accepts.
var FindingStates = []string{string(FindingOpen), string(FindingRepairing), string(FindingRepaired), string(FindingHeld), "unresolved"}

// FindingViews lists findings, newest first.
func (db *DB) FindingViews(ctx context.Context, f FindingFilterView) ([]FindingView, error) {
	q := `SELECT f.id, f.run_id, f.torrent_id, encode(t.infohash, 'hex'), t.name, c.name, f.piece, f.file_index,
		f.file_path, f.file_offset, f.kind, f.detail, f.state, f.detected_at, f.repaired_at, f.repair_source
		FROM findings f JOIN torrents t ON t.id = f.torrent_id JOIN collections c ON c.id = t.collection_id WHERE true`
	var args []any
	switch f.State {
	case "":
	case "unresolved":
		q += ` AND f.state <> 'repaired'`
	default:
		args = append(args, f.State)
		q += fmt.Sprintf(` AND f.state = $%d`, len(args))
	}
	if f.RunID != 0 {
		args = append(args, f.RunID)
		q += fmt.Sprintf(` AND f.run_id = $%d`, len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY f.id DESC LIMIT $%d`, len(args))
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: list findings: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FindingView, error) {
		var v FindingView
		return v, r.Scan(&v.ID, &v.RunID, &v.TorrentID, &v.InfoHash, &v.TorrentName, &v.Collection, &v.Piece,
			&v.FileIndex, &v.FilePath, &v.FileOffset, &v.Kind, &v.Detail, &v.State, &v.DetectedAt,
			&v.RepairedAt, &v.RepairSource)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list findings: %w", err)
	}
	return out, nil
}

// OpenFindingCount counts a torrent's findings that are not repaired.
func (db *DB) OpenFindingCount(ctx context.Context, torrentID int64) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM findings WHERE torrent_id = $1 AND state <> 'repaired'`, torrentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("catalog: count findings of torrent %d: %w", torrentID, err)
	}
	return n, nil
}
