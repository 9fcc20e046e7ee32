package catalog

// Read-only queries behind the HTTP API, the status page and the metrics
// (internal/httpapi). Nothing here writes: the verifier owns verify_runs and
// findings, these only show them.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunView is one verification run as the API shows it.
type RunView struct {
	ID             int64           `json:"id"`
	Kind           string          `json:"kind"`
	Scope          json.RawMessage `json:"scope"`
	State          string          `json:"state"`
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
	// Findings counts the findings recorded by this run.
	Findings int `json:"findings"`
}

const runViewCols = `r.id, r.kind, r.scope, r.state, coalesce(r.node_id, ''), r.requested_at, r.started_at,
	r.finished_at, r.bytes_planned, r.bytes_hashed, r.pieces_checked, r.pieces_failed, r.pieces_repaired,
	r.error, (SELECT count(*) FROM findings f WHERE f.run_id = r.id)`

func scanRunView(row pgx.Row) (RunView, error) {
	var r RunView
	err := row.Scan(&r.ID, &r.Kind, &r.Scope, &r.State, &r.NodeID, &r.RequestedAt, &r.StartedAt,
		&r.FinishedAt, &r.BytesPlanned, &r.BytesHashed, &r.PiecesChecked, &r.PiecesFailed, &r.PiecesRepaired,
		&r.Error, &r.Findings)
	return r, err
}

// RunViews returns the latest limit verification runs, newest first.
func (db *DB) RunViews(ctx context.Context, limit int) ([]RunView, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+runViewCols+` FROM verify_runs r ORDER BY r.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("catalog: list verify runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RunView, error) { return scanRunView(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list verify runs: %w", err)
	}
	return out, nil
}

// RunView returns one verification run.
func (db *DB) RunView(ctx context.Context, id int64) (RunView, error) {
	r, err := scanRunView(db.Pool.QueryRow(ctx, `SELECT `+runViewCols+` FROM verify_runs r WHERE r.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return RunView{}, fmt.Errorf("catalog: verify run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return RunView{}, fmt.Errorf("catalog: read verify run %d: %w", id, err)
	}
	return r, nil
}

// LastRunView returns the most recent run that has finished (any result),
// or ok=false when none has.
func (db *DB) LastRunView(ctx context.Context) (r RunView, ok bool, err error) {
	r, err = scanRunView(db.Pool.QueryRow(ctx, `SELECT `+runViewCols+` FROM verify_runs r
		WHERE r.finished_at IS NOT NULL ORDER BY r.finished_at DESC, r.id DESC LIMIT 1`))
	if errors.Is(err, pgx.ErrNoRows) {
		return RunView{}, false, nil
	}
	if err != nil {
		return RunView{}, false, fmt.Errorf("catalog: read last verify run: %w", err)
	}
	return r, true, nil
}

// FindingView is one finding with the torrent it belongs to.
type FindingView struct {
	ID           int64      `json:"id"`
	RunID        *int64     `json:"run_id,omitempty"`
	TorrentID    int64      `json:"torrent_id"`
	InfoHash     string     `json:"infohash"`
	TorrentName  string     `json:"torrent_name"`
	Collection   string     `json:"collection"`
	Piece        int        `json:"piece"`
	FileIndex    *int       `json:"file_index,omitempty"`
	FilePath     string     `json:"file_path"`
	FileOffset   *int64     `json:"file_offset,omitempty"`
	Kind         string     `json:"kind"`
	Detail       string     `json:"detail"`
	State        string     `json:"state"`
	DetectedAt   time.Time  `json:"detected_at"`
	RepairedAt   *time.Time `json:"repaired_at,omitempty"`
	RepairSource string     `json:"repair_source,omitempty"`
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
var FindingStates = []string{"open", "repairing", "repaired", "held", "unresolved"}

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

// OpsStats are the catalog-derived numbers of the metrics and status page.
type OpsStats struct {
	// TorrentsByState counts torrents that are not removed, by state
	// (active, paused), except that unavailable torrents count under
	// "unavailable" whatever their state.
	TorrentsByState map[string]int
	// FindingsOpen counts findings not repaired.
	FindingsOpen int
	// LastSuccessfulVerify is the latest finished_at of a run in state
	// done; nil when no run has succeeded.
	LastSuccessfulVerify *time.Time
}

// OpsSnapshot reads OpsStats in one round trip.
func (db *DB) OpsSnapshot(ctx context.Context) (OpsStats, error) {
	st := OpsStats{TorrentsByState: map[string]int{"active": 0, "paused": 0, "unavailable": 0}}
	var byState map[string]int
	err := db.Pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(jsonb_object_agg(s, n), '{}') FROM (
			SELECT CASE WHEN availability = 'unavailable' THEN 'unavailable' ELSE state END AS s, count(*) AS n
			FROM torrents WHERE state <> 'removed' GROUP BY 1) x),
		(SELECT count(*) FROM findings WHERE state <> 'repaired'),
		(SELECT max(finished_at) FROM verify_runs WHERE state = 'done')`).Scan(&byState, &st.FindingsOpen, &st.LastSuccessfulVerify)
	if err != nil {
		return OpsStats{}, fmt.Errorf("catalog: read status counts: %w", err)
	}
	for s, n := range byState {
		st.TorrentsByState[s] = n
	}
	return st, nil
}
