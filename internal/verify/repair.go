package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// afterRun decides per torrent of a run what happens to the findings it
// read bad (new ones, and ones being repaired that are still bad):
// held (mass failure or data dir gone: repairing would re-download the
// whole torrent over data that may only be unmounted), or handed to the
// Repairer, or left open when there is none.
func (e *engine) afterRun(ctx context.Context, runID int64) error {
	stats, err := e.db.VerifyRunTorrentStats(ctx, runID)
	if err != nil {
		return err
	}
	for _, st := range stats {
		if st.PiecesFailed == 0 {
			if err := e.recheckClean(ctx, st.TorrentID); err != nil {
				return err
			}
			continue
		}
		if err := e.settleTorrent(ctx, runID, st); err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) settleTorrent(ctx context.Context, runID int64, st catalog.VerifyTorrentStat) error {
	t, err := e.db.TorrentByID(ctx, st.TorrentID)
	if err != nil {
		return err
	}
	// Findings being repaired that this run read bad again are handed over
	// again: their pieces may be recorded complete already (the repair
	// delivered, then the data was damaged again before the follow-up
	// closed the finding), and only MarkBad records them not complete.
	found, err := e.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{RunID: runID, TorrentID: t.ID,
		States: []catalog.FindingState{catalog.FindingOpen, catalog.FindingRepairing}})
	if err != nil {
		return err
	}
	found = slices.DeleteFunc(found, func(f catalog.VerifyFinding) bool { return f.LastRunID != runID })
	if len(found) == 0 {
		return nil
	}
	ids, pieces := findingIDs(found)
	_, statErr := os.Stat(t.DataDir)
	dirGone := errors.Is(statErr, fs.ErrNotExist)
	ratio := float64(st.PiecesFailed) / float64(max(1, st.PiecesChecked))
	limit := e.cfg.MassFailureRatio
	if c, err := e.db.Collection(ctx, t.Collection); err == nil {
		limit = e.policyOf(c.VerifyPolicy).MassFailureRatio
	}
	recorded, err := e.recordedComplete(ctx, t, pieces)
	if err != nil {
		return err
	}
	// The guard protects data the catalog says it has: when none of the
	// failed pieces was recorded complete (a torrent added without its
	// data, still to be fetched), there is nothing to hold for; they are
	// handed to the seeder like any bad piece and fetched.
	if recorded > 0 && (dirGone || ratio > limit) {
		a := catalog.AvailabilityOf{State: catalog.AvailabilityUnavailable, Cause: catalog.CauseMassFailure,
			Reason: fmt.Sprintf("verify run %d: %d of %d checked pieces bad (%.0f%%); repair held", runID, st.PiecesFailed, st.PiecesChecked, ratio*100)}
		if dirGone {
			a.Cause, a.Reason = catalog.CauseDataMissing, fmt.Sprintf("verify run %d: data directory %s is missing; repair held", runID, t.DataDir)
		}
		return e.hold(ctx, t, ids, a)
	}
	if e.cfg.Repairer == nil {
		return nil
	}
	if err := e.cfg.Repairer.MarkBad(ctx, t.ID, pieces); err != nil {
		return fmt.Errorf("verify: ask repair of %d pieces of torrent %d: %w", len(pieces), t.ID, err)
	}
	e.log.Info().Int64("torrent_id", t.ID).Int("pieces", len(pieces)).Msg("verify: bad pieces handed to the seeder for repair")
	return e.db.SetVerifyFindingsState(ctx, ids, catalog.FindingRepairing)
}

// recheckClean brings back an unavailable torrent that a run found
// clean (an operator's `archivd verify NAME` after the data came back):
// the re-check decides, with the torrent's held findings in view.
func (e *engine) recheckClean(ctx context.Context, id int64) error {
	t, err := e.db.TorrentByID(ctx, id)
	if err != nil || t.Availability != catalog.AvailabilityUnavailable {
		return err
	}
	_, err = e.recheck(ctx, id)
	return err
}

// recordedComplete counts the pieces of ps the catalog records complete.
func (e *engine) recordedComplete(ctx context.Context, t catalog.Torrent, ps []int) (int, error) {
	st, err := e.db.LoadPieces(ctx, t.ID, t.PieceCount)
	if err != nil {
		return 0, fmt.Errorf("verify: piece state of torrent %s: %w", t.Name, err)
	}
	n := 0
	for _, p := range ps {
		if st.Known.Get(p) && st.Complete.Get(p) {
			n++
		}
	}
	return n, nil
}

func findingIDs(found []catalog.VerifyFinding) ([]int64, []int) {
	ids := make([]int64, 0, len(found))
	seen := map[int]bool{}
	var pieces []int
	for _, f := range found {
		ids = append(ids, f.ID)
		for _, p := range f.Pieces() {
			if !seen[p] {
				seen[p] = true
				pieces = append(pieces, p)
			}
		}
	}
	return ids, pieces
}

func (e *engine) hold(ctx context.Context, t catalog.Torrent, ids []int64, a catalog.AvailabilityOf) error {
	reason := a.Reason
	e.log.Error().Int64("torrent_id", t.ID).Str("name", t.Name).Str("alert", "verify_mass_failure").Str("cause", string(a.Cause)).
		Msg(reason + "; re-checked with backoff, or run `archivd resume " + t.Name + "` once the data is back")
	if err := e.db.SetAvailability(ctx, t.ID, a); err != nil {
		return err
	}
	if err := e.db.HoldVerifyFindings(ctx, t.ID, ids); err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]any{"findings": len(ids)})
	return e.db.AddVerifyEvent(ctx, t.ID, "verify_mass_failure", reason, data)
}

// repairOnce re-reads the ranges being repaired: pieces that read good
// close their part of the finding (and are recorded complete if the
// engine has not done so: put right by hand); findings still bad after
// RepairTimeout in repair go back to open.
func (e *engine) repairOnce(ctx context.Context) error {
	found, err := e.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{States: []catalog.FindingState{catalog.FindingRepairing}})
	if err != nil {
		return err
	}
	cache := map[int64]*scrub.Target{}
	var late []int64
	for _, f := range found {
		if err := e.recheckFinding(ctx, f, cache); err != nil {
			e.log.Warn().Err(err).Int64("torrent_id", f.TorrentID).Int("piece", f.Piece).Msg("verify: re-read repaired pieces")
			continue
		}
		if e.clk.Now().Sub(f.StateChangedAt) > e.cfg.RepairTimeout {
			late = append(late, f.ID)
		}
	}
	if len(late) > 0 {
		// Closed ones are not moved: SetVerifyFindingsState skips them.
		e.log.Warn().Int("findings", len(late)).Msg("verify: no source repaired these pieces in time; findings stay open")
		return e.db.SetVerifyFindingsState(ctx, late, catalog.FindingOpen)
	}
	return nil
}

// recheckFinding reads one finding's range and records what it finds.
func (e *engine) recheckFinding(ctx context.Context, f catalog.VerifyFinding, cache map[int64]*scrub.Target) error {
	tg, err := e.target(ctx, f.TorrentID, cache)
	if err != nil {
		return err
	}
	s, err := scrub.Scrub(ctx, tg, f.Piece, f.PieceCount, scrub.Options{Workers: 1, Open: e.cfg.Open, Background: e.background})
	if err != nil {
		return err
	}
	bad := make([]catalog.VerifyFinding, 0, len(s.Bad))
	failed := map[int]bool{}
	for _, b := range s.Bad {
		failed[b.Piece] = true
		bad = append(bad, catalog.VerifyFinding{Piece: b.Piece, Kind: b.Kind, FileIndex: b.File, FilePath: b.Path, FileOffset: b.Offset, Detail: b.Detail})
	}
	var good []int
	sources := map[int]string{}
	for _, p := range f.Pieces() {
		if !failed[p] {
			good = append(good, p)
			sources[p] = e.repairSource(f.TorrentID, p)
		}
	}
	if len(good) == 0 {
		return nil
	}
	closed, err := e.db.ObserveFindings(ctx, catalog.FindingObservation{TorrentID: f.TorrentID, First: f.Piece, Count: f.PieceCount,
		Bad: bad, Sources: sources}, e.clk.Now())
	if err != nil {
		return fmt.Errorf("verify: record repaired pieces: %w", err)
	}
	e.closed(closed)
	intact, err := e.notComplete(ctx, f.TorrentID, good)
	if err != nil {
		return err
	}
	return e.recordIntact(ctx, tg, f.TorrentID, intact)
}

// notComplete keeps the pieces the catalog does not record complete.
func (e *engine) notComplete(ctx context.Context, torrentID int64, pieces []int) ([]int, error) {
	ps, err := e.db.LoadPieces(ctx, torrentID, slices.Max(pieces)+1)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(pieces), func(p int) bool { return ps.State(p) == catalog.PieceComplete }), nil
}

type pieceRef struct {
	torrent int64
	piece   int
}

// repairSource asks the Repairer once per piece who delivered it (the
// Repairer forgets after telling); what it told is kept in e.told until
// the findings are recorded. "" = no delivery recorded: the catalog then
// records catalog.SourceFoundIntact.
func (e *engine) repairSource(torrentID int64, piece int) string {
	k := pieceRef{torrentID, piece}
	e.toldMu.Lock()
	src, ok := e.told[k]
	e.toldMu.Unlock()
	if !ok && e.cfg.Repairer != nil {
		src = e.cfg.Repairer.RepairSource(torrentID, piece)
		if src != "" {
			e.keepTold(k, src)
		}
	}
	return src
}

// maxTold bounds e.told: entries live only between a source being told
// and its findings being recorded, so this is never reached in practice.
const maxTold = 1 << 16

func (e *engine) keepTold(k pieceRef, src string) {
	e.toldMu.Lock()
	defer e.toldMu.Unlock()
	if e.told == nil || len(e.told) >= maxTold {
		e.told = map[pieceRef]string{}
	}
	e.told[k] = src
}
