package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// afterRun decides per torrent of a run what happens to its new findings:
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
	found, err := e.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{RunID: runID, TorrentID: t.ID, States: []catalog.FindingState{catalog.FindingOpen}})
	if err != nil || len(found) == 0 {
		return err
	}
	ids, pieces := findingIDs(found)
	_, statErr := os.Stat(t.DataDir)
	dirGone := errors.Is(statErr, fs.ErrNotExist)
	ratio := float64(st.PiecesFailed) / float64(max(1, st.PiecesChecked))
	limit := e.cfg.MassFailureRatio
	if c, err := e.db.Collection(ctx, t.Collection); err == nil {
		limit = e.policyOf(c.VerifyPolicy).MassFailureRatio
	}
	if dirGone || ratio > limit {
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
	e.log.Info().Int64("torrent_id", t.ID).Ints("piece_list", pieces).Msg("verify: bad pieces handed to the seeder for repair")
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

func findingIDs(found []catalog.VerifyFinding) ([]int64, []int) {
	ids := make([]int64, 0, len(found))
	seen := map[int]bool{}
	var pieces []int
	for _, f := range found {
		ids = append(ids, f.ID)
		if !seen[f.Piece] {
			seen[f.Piece] = true
			pieces = append(pieces, f.Piece)
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
	if err := e.db.SetVerifyFindingsState(ctx, ids, catalog.FindingHeld); err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]any{"findings": len(ids)})
	return e.db.AddVerifyEvent(ctx, t.ID, "verify_mass_failure", reason, data)
}

// repairOnce re-reads the pieces being repaired: good ones close their
// findings; ones still bad after RepairTimeout go back to open.
func (e *engine) repairOnce(ctx context.Context) error {
	found, err := e.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{States: []catalog.FindingState{catalog.FindingRepairing}})
	if err != nil {
		return err
	}
	cache := map[int64]*scrub.Target{}
	good := map[string][]int64{} // by repair source
	sourceOf := map[pieceRef]string{}
	var late []int64
	now := e.clk.Now()
	for _, f := range found {
		ok, err := e.pieceGood(ctx, f, cache)
		if err != nil {
			e.log.Warn().Err(err).Int64("torrent_id", f.TorrentID).Int("piece", f.Piece).Msg("verify: re-read repaired piece")
		}
		switch {
		case ok:
			src := e.repairSource(f, sourceOf)
			good[src] = append(good[src], f.ID)
		case now.Sub(f.DetectedAt) > e.cfg.RepairTimeout:
			late = append(late, f.ID)
		}
	}
	for src, ids := range good {
		e.log.Info().Int("pieces", len(ids)).Str("source", src).Msg("verify: pieces repaired")
		if err := e.db.RepairVerifyFindings(ctx, ids, src, now); err != nil {
			return fmt.Errorf("verify: record %d repaired findings: %w", len(ids), err)
		}
		e.forgetTold(found, ids)
		if o := e.cfg.Observer; o != nil {
			o.Repaired(len(ids))
		}
	}
	if len(late) > 0 {
		e.log.Warn().Int("pieces", len(late)).Msg("verify: no source repaired these pieces in time; findings stay open")
		return e.db.SetVerifyFindingsState(ctx, late, catalog.FindingOpen)
	}
	return nil
}

type pieceRef struct {
	torrent int64
	piece   int
}

// unknownSource is recorded when the seeder saw no delivery of a repaired
// piece: it was delivered before a restart of this process, or the file
// was put right by something other than the engine.
const unknownSource = "unknown (no delivery recorded)"

// repairSource asks the Repairer once per piece (several findings, from
// several runs, can name one piece; the Repairer forgets after telling).
// What it told is kept in e.told until the findings are recorded.
func (e *engine) repairSource(f catalog.VerifyFinding, seen map[pieceRef]string) string {
	k := pieceRef{f.TorrentID, f.Piece}
	if src, ok := seen[k]; ok {
		return src
	}
	e.toldMu.Lock()
	src, ok := e.told[k]
	e.toldMu.Unlock()
	if !ok && e.cfg.Repairer != nil {
		src = e.cfg.Repairer.RepairSource(f.TorrentID, f.Piece)
		if src != "" {
			e.keepTold(k, src)
		}
	}
	if src == "" {
		src = unknownSource
	}
	seen[k] = src
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

// forgetTold drops the told sources of the pieces of the findings ids,
// now recorded repaired.
func (e *engine) forgetTold(found []catalog.VerifyFinding, ids []int64) {
	done := make(map[int64]bool, len(ids))
	for _, id := range ids {
		done[id] = true
	}
	e.toldMu.Lock()
	defer e.toldMu.Unlock()
	for _, f := range found {
		if done[f.ID] {
			delete(e.told, pieceRef{f.TorrentID, f.Piece})
		}
	}
}

func (e *engine) pieceGood(ctx context.Context, f catalog.VerifyFinding, cache map[int64]*scrub.Target) (bool, error) {
	tg, err := e.target(ctx, f.TorrentID, cache)
	if err != nil {
		return false, err
	}
	s, err := scrub.Scrub(ctx, tg, f.Piece, 1, scrub.Options{Workers: 1, Open: e.cfg.Open})
	return err == nil && len(s.Bad) == 0, err
}
