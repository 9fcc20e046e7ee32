package catalog

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// FindingObservation is what one read of pieces [First, First+Count) of a
// torrent found. Every piece of an open finding in the window must have
// been judged: listed in Bad if it failed, good otherwise.
type FindingObservation struct {
	RunID     int64 // 0: not a run (the repair follow-up)
	TorrentID int64
	First     int
	Count     int
	Bad       []VerifyFinding // one entry per failed piece
	// Sources names who repaired pieces found good (missing: SourceFoundIntact).
	Sources map[int]string
	// Touch records the sighting on ranges still bad (last_seen_at,
	// seen_count, last_run_id): runs do, the repair follow-up does not.
	Touch bool
	// node is the replica's node (the handle's).
	node string
}

// ObserveFindings applies an observation on its own (the repair
// follow-up); it returns the ranges it closed.
func (db *DB) ObserveFindings(ctx context.Context, o FindingObservation, now time.Time) ([]VerifyFinding, error) {
	var closed []VerifyFinding
	o.node = db.NodeID()
	err := db.inTx(ctx, func(tx pgx.Tx) (err error) {
		closed, err = observe(ctx, tx, o, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: record findings of torrent %d: %w", o.TorrentID, err)
	}
	return closed, nil
}

// observe brings the open findings of the window in line with what was
// read: a range still bad is seen again, a range read good is closed
// (repaired, with its source), a range partly good is split, and failed
// pieces no open range covers become new ranges (one per run of
// consecutive pieces with one cause). It returns the closed ranges.
func observe(ctx context.Context, tx pgx.Tx, o FindingObservation, now time.Time) ([]VerifyFinding, error) {
	lo, hi := o.First, o.First+o.Count
	rows, err := tx.Query(ctx, `SELECT `+findingCols+` FROM findings WHERE torrent_id = $1 AND node_id = $4 AND state <> 'repaired'
		AND piece < $3 AND piece + piece_count > $2 ORDER BY piece FOR UPDATE`, o.TorrentID, lo, hi, o.node)
	if err != nil {
		return nil, err
	}
	open, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VerifyFinding, error) { return scanFinding(r) })
	if err != nil {
		return nil, err
	}
	bad := make(map[int]VerifyFinding, len(o.Bad))
	for _, b := range o.Bad {
		bad[b.Piece] = b
	}
	var closed []VerifyFinding
	repaired := map[int64]int{} // run credited -> pieces
	for _, f := range open {
		segs := splitFinding(f, lo, hi, bad)
		for i, s := range segs {
			if err := writeSegment(ctx, tx, f, s, i == 0, o, now); err != nil {
				return nil, err
			}
			if s.state == segGood {
				c := f
				c.Piece, c.PieceCount, c.State, c.RepairSource = s.first, s.count, FindingRepaired, o.source(s.first)
				closed = append(closed, c)
				repaired[cmp0(f.LastRunID, f.RunID)] += s.count
			}
		}
		for p := f.Piece; p < f.Piece+f.PieceCount; p++ {
			delete(bad, p)
		}
	}
	if err := insertNewRanges(ctx, tx, o, bad, now); err != nil {
		return nil, err
	}
	for run, n := range repaired {
		if run == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE verify_runs SET pieces_repaired = pieces_repaired + $2 WHERE id = $1`, run, n); err != nil {
			return nil, err
		}
	}
	return closed, nil
}

func cmp0(a, b int64) int64 {
	if a != 0 {
		return a
	}
	return b
}

func (o FindingObservation) source(p int) string {
	if s := o.Sources[p]; s != "" {
		return s
	}
	return SourceFoundIntact
}

type segState int

const (
	segBad     segState = iota // read bad again
	segGood                    // read good: closed
	segOutside                 // outside the window: unchanged
)

type segment struct {
	first, count int
	state        segState
}

// splitFinding cuts a finding's range into runs of pieces with the same
// outcome of this read.
func splitFinding(f VerifyFinding, lo, hi int, bad map[int]VerifyFinding) []segment {
	var segs []segment
	for p := f.Piece; p < f.Piece+f.PieceCount; p++ {
		st := segOutside
		if p >= lo && p < hi {
			st = segGood
			if _, ok := bad[p]; ok {
				st = segBad
			}
		}
		if n := len(segs); n > 0 && segs[n-1].state == st {
			segs[n-1].count++
			continue
		}
		segs = append(segs, segment{first: p, count: 1, state: st})
	}
	return segs
}

// writeSegment stores one segment of f: the first in f's own row, the
// others as copies of it.
func writeSegment(ctx context.Context, tx pgx.Tx, f VerifyFinding, s segment, own bool, o FindingObservation, now time.Time) error {
	r := f
	r.Piece, r.PieceCount = s.first, s.count
	switch s.state {
	case segGood:
		r.State, r.RepairedAt, r.RepairSource, r.StateChangedAt = FindingRepaired, &now, o.source(s.first), now
		if o.RunID != 0 {
			r.LastRunID = o.RunID // the run that found it good reports it
		}
	case segBad:
		if o.Touch {
			r.LastSeenAt, r.SeenCount = now, f.SeenCount+1
			if o.RunID != 0 {
				r.LastRunID = o.RunID
			}
		}
	}
	if s.state == segOutside && own && s.count == f.PieceCount {
		return nil
	}
	if own {
		_, err := tx.Exec(ctx, `UPDATE findings SET piece = $2, piece_count = $3, state = $4, repaired_at = $5, repair_source = $6,
			state_changed_at = $7, last_seen_at = $8, seen_count = $9, last_run_id = nullif($10, 0) WHERE id = $1`,
			f.ID, r.Piece, r.PieceCount, r.State, r.RepairedAt, r.RepairSource, r.StateChangedAt, r.LastSeenAt, r.SeenCount, r.LastRunID)
		return err
	}
	return insertFinding(ctx, tx, r)
}

// insertNewRanges stores failed pieces no open finding covered, one row
// per run of consecutive pieces with the same cause.
func insertNewRanges(ctx context.Context, tx pgx.Tx, o FindingObservation, bad map[int]VerifyFinding, now time.Time) error {
	ps := make([]int, 0, len(bad))
	for p := range bad {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	for i := 0; i < len(ps); {
		r := bad[ps[i]]
		j := i + 1
		for j < len(ps) && ps[j] == ps[j-1]+1 && bad[ps[j]].Kind == r.Kind {
			j++
		}
		r.TorrentID, r.RunID, r.LastRunID, r.PieceCount, r.State, r.Node = o.TorrentID, o.RunID, o.RunID, j-i, FindingOpen, o.node
		r.DetectedAt, r.LastSeenAt, r.StateChangedAt, r.SeenCount = now, now, now, 1
		if err := insertFinding(ctx, tx, r); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func insertFinding(ctx context.Context, tx pgx.Tx, f VerifyFinding) error {
	var idx *int
	var off *int64
	if f.FileIndex >= 0 {
		idx, off = &f.FileIndex, &f.FileOffset
	}
	_, err := tx.Exec(ctx, `INSERT INTO findings (run_id, last_run_id, torrent_id, piece, piece_count, file_index, file_path,
		file_offset, kind, detail, state, detected_at, last_seen_at, seen_count, state_changed_at, repaired_at, repair_source, node_id)
		VALUES (nullif($1, 0), nullif($2, 0), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		f.RunID, f.LastRunID, f.TorrentID, f.Piece, f.PieceCount, idx, f.FilePath, off, f.Kind, f.Detail, f.State,
		f.DetectedAt, f.LastSeenAt, f.SeenCount, f.StateChangedAt, f.RepairedAt, f.RepairSource, f.Node)
	if err != nil {
		return fmt.Errorf("store finding of pieces %d+%d: %w", f.Piece, f.PieceCount, err)
	}
	return nil
}
