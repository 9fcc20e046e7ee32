package catalog

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerifyFinding is a range of pieces [Piece, Piece+PieceCount) of a
// torrent that failed verification for one cause (Kind). While it is not
// repaired, later runs that find it still bad update LastSeenAt, SeenCount
// and LastRunID instead of adding rows.
type VerifyFinding struct {
	ID             int64        `json:"id"`
	RunID          int64        `json:"run_id"`      // the run that first found it
	LastRunID      int64        `json:"last_run_id"` // the latest run that judged it
	TorrentID      int64        `json:"torrent_id"`
	Piece          int          `json:"piece"`
	PieceCount     int          `json:"piece_count"`
	FileIndex      int          `json:"file_index"` // -1: none
	FilePath       string       `json:"file_path"`
	FileOffset     int64        `json:"file_offset"`
	Kind           FindingKind  `json:"kind"`
	Detail         string       `json:"detail,omitempty"`
	State          FindingState `json:"state"`
	DetectedAt     time.Time    `json:"detected_at"`
	LastSeenAt     time.Time    `json:"last_seen_at"`
	SeenCount      int          `json:"seen_count"`
	StateChangedAt time.Time    `json:"state_changed_at"`
	RepairedAt     *time.Time   `json:"repaired_at,omitempty"`
	RepairSource   string       `json:"repair_source,omitempty"`
	// Node is the node whose replica it is.
	Node string `json:"node"`
}

// Range is the finding's pieces as text: "7" or "7-12".
func (f VerifyFinding) Range() string { return pieceRange(f.Piece, f.PieceCount) }

func pieceRange(first, n int) string {
	if n <= 1 {
		return strconv.Itoa(first)
	}
	return fmt.Sprintf("%d-%d", first, first+n-1)
}

// Pieces lists the pieces of the finding's range.
func (f VerifyFinding) Pieces() []int {
	ps := make([]int, f.PieceCount)
	for i := range ps {
		ps[i] = f.Piece + i
	}
	return ps
}

const findingCols = `id, coalesce(run_id, 0), coalesce(last_run_id, 0), torrent_id, piece, piece_count, coalesce(file_index, -1),
	file_path, coalesce(file_offset, 0), kind, detail, state, detected_at, last_seen_at, seen_count, state_changed_at,
	repaired_at, repair_source, node_id`

func scanFinding(r pgx.Row) (VerifyFinding, error) {
	var v VerifyFinding
	return v, r.Scan(&v.ID, &v.RunID, &v.LastRunID, &v.TorrentID, &v.Piece, &v.PieceCount, &v.FileIndex, &v.FilePath,
		&v.FileOffset, &v.Kind, &v.Detail, &v.State, &v.DetectedAt, &v.LastSeenAt, &v.SeenCount, &v.StateChangedAt,
		&v.RepairedAt, &v.RepairSource, &v.Node)
}

// VerifyJobResult is what a finished job stores.
type VerifyJobResult struct {
	BytesHashed   int64
	PiecesChecked int64
	// Bad lists every judged piece that failed, one entry per piece
	// (Piece, Kind, file facts, Detail); the rest of the range read good.
	Bad []VerifyFinding
	// Sources names who repaired pieces found good again (by piece);
	// missing: SourceFoundIntact.
	Sources map[int]string
}

// CompleteVerifyJob stores a job's outcome in one transaction: findings
// (ObserveFindings), the range's verification time and the run's totals.
// A crash before it commits repeats this one range; after, nothing.
func (db *DB) CompleteVerifyJob(ctx context.Context, j VerifyJob, owner string, res VerifyJobResult, now time.Time) ([]VerifyFinding, error) {
	result := RangeOK
	if len(res.Bad) > 0 {
		result = RangeFailed
	}
	var closed []VerifyFinding
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE verify_jobs SET state = 'done', bytes_done = $3, updated_at = $4
			WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, j.ID, owner, res.BytesHashed, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrLeaseLost
		}
		closed, err = observe(ctx, tx, FindingObservation{RunID: j.RunID, TorrentID: j.TorrentID, First: j.First, Count: j.Count,
			Bad: res.Bad, Sources: res.Sources, Touch: true, node: db.NodeID()}, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE verify_ranges SET last_verified_at = $4, last_result = $5, last_run_id = $6
			WHERE torrent_id = $1 AND node_id = $7 AND first_piece = $2 AND piece_count = $3`,
			j.TorrentID, j.First, j.Count, now, result, j.RunID, db.NodeID()); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE verify_runs SET bytes_hashed = bytes_hashed + $2, pieces_checked = pieces_checked + $3,
			pieces_failed = pieces_failed + $4 WHERE id = $1`, j.RunID, res.BytesHashed, res.PiecesChecked, len(res.Bad))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: complete verify job %d: %w", j.ID, err)
	}
	return closed, nil
}

// VerifyFindingFilter selects findings; zero fields match all. RunID
// matches the run that first found a finding or last saw it.
type VerifyFindingFilter struct {
	RunID     int64
	TorrentID int64
	States    []FindingState
	Limit     int // 0: all
}

// VerifyFindings lists findings by torrent and piece.
func (db *DB) VerifyFindings(ctx context.Context, f VerifyFindingFilter) ([]VerifyFinding, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+findingCols+` FROM findings
		WHERE ($1 = 0 OR run_id = $1 OR last_run_id = $1) AND ($2 = 0 OR (torrent_id = $2 AND node_id = $5))
			AND (coalesce(cardinality($3::text[]), 0) = 0 OR state = ANY($3))
		ORDER BY torrent_id, piece, id LIMIT nullif($4, 0)`, f.RunID, f.TorrentID, f.States, f.Limit, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: list findings: %w", err)
	}
	fs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VerifyFinding, error) { return scanFinding(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list findings: %w", err)
	}
	return fs, nil
}

// SetVerifyFindingsState moves findings to state (repairing, held, open).
func (db *DB) SetVerifyFindingsState(ctx context.Context, ids []int64, state FindingState) error {
	if _, err := db.pool.Exec(ctx, `UPDATE findings SET state = $2, state_changed_at = now()
		WHERE id = ANY($1) AND state <> 'repaired' AND state <> $2`, ids, state); err != nil {
		return fmt.Errorf("catalog: set %d findings %s: %w", len(ids), state, err)
	}
	return nil
}

// RepairVerifyFindings closes findings as repaired and counts the repaired
// pieces on the runs that last found them.
func (db *DB) RepairVerifyFindings(ctx context.Context, ids []int64, source string, now time.Time) error {
	_, err := db.pool.Exec(ctx, `WITH done AS (
			UPDATE findings SET state = 'repaired', repaired_at = $3, repair_source = $2, state_changed_at = $3
			WHERE id = ANY($1) AND state <> 'repaired' RETURNING coalesce(last_run_id, run_id) AS run_id, piece_count)
			UPDATE verify_runs r SET pieces_repaired = r.pieces_repaired + d.n
			FROM (SELECT run_id, sum(piece_count) AS n FROM done WHERE run_id IS NOT NULL GROUP BY run_id) d WHERE r.id = d.run_id`,
		ids, source, now)
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
	PieceCount   int          `json:"piece_count"`
	FileIndex    *int         `json:"file_index,omitempty"`
	FilePath     string       `json:"file_path"`
	FileOffset   *int64       `json:"file_offset,omitempty"`
	Kind         FindingKind  `json:"kind"`
	Detail       string       `json:"detail"`
	State        FindingState `json:"state"`
	DetectedAt   time.Time    `json:"detected_at"`
	LastSeenAt   time.Time    `json:"last_seen_at"`
	SeenCount    int          `json:"seen_count"`
	RepairedAt   *time.Time   `json:"repaired_at,omitempty"`
	RepairSource string       `json:"repair_source,omitempty"`
}

// Range is the finding's pieces as text: "7" or "7-12".
func (v FindingView) Range() string { return pieceRange(v.Piece, v.PieceCount) }

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
	q := `SELECT f.id, f.run_id, f.torrent_id, encode(t.infohash, 'hex'), t.name, c.name, f.piece, f.piece_count, f.file_index,
		f.file_path, f.file_offset, f.kind, f.detail, f.state, f.detected_at, f.last_seen_at, f.seen_count, f.repaired_at, f.repair_source
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
		q += fmt.Sprintf(` AND (f.run_id = $%[1]d OR f.last_run_id = $%[1]d)`, len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY f.id DESC LIMIT $%d`, len(args))
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: list findings: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FindingView, error) {
		var v FindingView
		return v, r.Scan(&v.ID, &v.RunID, &v.TorrentID, &v.InfoHash, &v.TorrentName, &v.Collection, &v.Piece, &v.PieceCount,
			&v.FileIndex, &v.FilePath, &v.FileOffset, &v.Kind, &v.Detail, &v.State, &v.DetectedAt, &v.LastSeenAt, &v.SeenCount,
			&v.RepairedAt, &v.RepairSource)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list findings: %w", err)
	}
	return out, nil
}

// OpenFindingCount counts a torrent's findings (ranges) that are not repaired.
func (db *DB) OpenFindingCount(ctx context.Context, torrentID int64) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM findings WHERE torrent_id = $1 AND node_id = $2 AND state <> 'repaired'`,
		torrentID, db.NodeID()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("catalog: count findings of torrent %d: %w", torrentID, err)
	}
	return n, nil
}

// OpenFindingPieces returns the pieces in [first, first+count) of a
// torrent that an open (not repaired) finding covers.
func (db *DB) OpenFindingPieces(ctx context.Context, torrentID int64, first, count int) (map[int]bool, error) {
	rows, err := db.pool.Query(ctx, `SELECT p FROM findings, generate_series(greatest(piece, $2), least(piece + piece_count, $3) - 1) AS p
		WHERE torrent_id = $1 AND node_id = $4 AND state <> 'repaired' AND piece < $3 AND piece + piece_count > $2`,
		torrentID, first, first+count, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: open findings of torrent %d: %w", torrentID, err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("catalog: open findings of torrent %d: %w", torrentID, err)
	}
	out := make(map[int]bool, len(ps))
	for _, p := range ps {
		out[p] = true
	}
	return out, nil
}
