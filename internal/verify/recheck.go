package verify

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// RecheckResult is what a re-check of an unavailable torrent found.
type RecheckResult struct {
	Available bool   // the torrent is available (now, or was already)
	Checked   int    // pieces recorded complete or held, all hashed
	Bad       int    // of those, failing their hash or unreadable
	Reason    string // why it stays unavailable (Available false)
}

// Recheck decides whether an unavailable torrent's data is back (the
// check behind `archivd resume` and the daemon's automatic re-checks). It
// hashes every piece the catalog records complete with the scrubber,
// never trusting that files merely exist. If the data is there and no
// more than the mass-failure share of those pieces is bad, the torrent
// becomes available: its held findings of good pieces close as "found
// intact on re-check", its bad pieces are recorded not complete (the
// engine fetches them again) and their findings go to repairing.
// Otherwise it stays unavailable with the re-check's reason.
func Recheck(ctx context.Context, db *catalog.DB, cfg Config, torrentID int64) (RecheckResult, error) {
	e, err := newEngine(cfg, db)
	if err != nil {
		return RecheckResult{}, err
	}
	return e.recheck(ctx, torrentID)
}

func (e *engine) recheck(ctx context.Context, id int64) (RecheckResult, error) {
	t, err := e.db.TorrentByID(ctx, id)
	if err != nil {
		return RecheckResult{}, err
	}
	if t.Availability != catalog.AvailabilityUnavailable {
		return RecheckResult{Available: true}, nil
	}
	if t.AvailabilityCause == catalog.CauseBadMetadata || !t.HasMetainfo() {
		return RecheckResult{Reason: t.AvailabilityReason + " (no data check can clear this: remove it with `archivd rm " + t.Name + "`)"}, nil
	}
	files, err := e.db.Files(ctx, id)
	if err != nil {
		return RecheckResult{}, err
	}
	if cause, why := datadir.Presence(t.DataDir, datadir.FilePaths(files)); cause != catalog.CauseNone {
		return e.stayUnavailable(ctx, t, RecheckResult{}, cause, why)
	}
	res, bad, onDisk, err := e.hashRecorded(ctx, t, files)
	if err != nil {
		return res, err
	}
	if limit := e.massLimit(ctx, t); res.Checked > 0 && float64(res.Bad)/float64(res.Checked) > limit {
		why := fmt.Sprintf("re-check: %d of %d recorded pieces bad (more than %.0f%%); repair held", res.Bad, res.Checked, limit*100)
		return e.stayUnavailable(ctx, t, res, catalog.CauseMassFailure, why)
	}
	if err := e.settleHeld(ctx, t, files, bad, onDisk); err != nil {
		return res, err
	}
	ok, err := e.db.ClearAvailability(ctx, t.ID, catalog.AvailabilityUnavailable)
	if err != nil || !ok {
		res.Available = err == nil // cleared by another process meanwhile
		return res, err
	}
	res.Available = true
	msg := fmt.Sprintf("data back: %d recorded pieces hashed, %d bad (fetched again)", res.Checked, res.Bad)
	e.log.Info().Int64("torrent_id", t.ID).Str("name", t.Name).Int("checked", res.Checked).Int("bad", res.Bad).
		Msg("torrent available again: " + msg)
	return res, e.db.AddTorrentEvent(ctx, t.ID, "available", msg, map[string]any{"checked": res.Checked, "bad": res.Bad})
}

// hashRecorded scrubs the whole torrent and counts the pieces it judges
// (recorded complete, or in a held finding), and those of them that are
// bad; onDisk has every piece that failed, judged or not.
func (e *engine) hashRecorded(ctx context.Context, t catalog.Torrent, files []catalog.File) (RecheckResult, []int, map[int]catalog.VerifyFinding, error) {
	tg, err := scrub.FromTorrent(t, files)
	if err != nil {
		return RecheckResult{}, nil, nil, err
	}
	sum, err := scrub.Scrub(ctx, tg, 0, tg.NumPieces(), scrub.Options{
		Workers: e.cfg.Workers, BlockSize: e.cfg.BlockSize, Limiter: e.lim, Open: e.cfg.Open, Map: !e.cfg.NoMap, Background: e.background})
	if err != nil {
		return RecheckResult{}, nil, nil, fmt.Errorf("verify: re-check torrent %s: %w", t.Name, err)
	}
	ps, err := e.db.LoadPieces(ctx, t.ID, tg.NumPieces())
	if err != nil {
		return RecheckResult{}, nil, nil, err
	}
	// Judged: the pieces recorded complete and those of held findings
	// (the hold made them unknown: HoldVerifyFindings).
	held, err := e.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: t.ID, States: []catalog.FindingState{catalog.FindingHeld}})
	if err != nil {
		return RecheckResult{}, nil, nil, err
	}
	judged := map[int]bool{}
	for _, f := range held {
		for _, p := range f.Pieces() {
			judged[p] = true
		}
	}
	for p := range tg.NumPieces() {
		if ps.Known.Get(p) && ps.Complete.Get(p) {
			judged[p] = true
		}
	}
	res := RecheckResult{Checked: len(judged)}
	var bad []int
	onDisk := make(map[int]catalog.VerifyFinding, len(sum.Bad))
	for _, b := range sum.Bad {
		onDisk[b.Piece] = catalog.VerifyFinding{Piece: b.Piece, Kind: b.Kind, FileIndex: b.File, FilePath: b.Path,
			FileOffset: b.Offset, Detail: b.Detail}
		if judged[b.Piece] {
			bad = append(bad, b.Piece)
		}
	}
	res.Bad = len(bad)
	return res, bad, onDisk, nil
}

// settleHeld records the bad pieces not complete (the torrent is out of
// the engine, so the durable record is the whole of MarkBad) and the held
// pieces read good complete again (files synced first: the torrent is out
// of the engine, so verify writes the catalog), and moves the held
// findings on: good pieces closed as found intact, bad ones to repairing,
// followed like any repair once the engine has the torrent.
func (e *engine) settleHeld(ctx context.Context, t catalog.Torrent, files []catalog.File, bad []int, onDisk map[int]catalog.VerifyFinding) error {
	if len(bad) > 0 {
		ups := make([]catalog.PieceUpdate, len(bad))
		for i, p := range bad {
			ups[i] = catalog.PieceUpdate{Piece: p}
		}
		if err := e.db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{t.ID: ups}); err != nil {
			return fmt.Errorf("verify: record %d bad pieces of %s not complete: %w", len(bad), t.Name, err)
		}
	}
	held, err := e.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: t.ID, States: []catalog.FindingState{catalog.FindingHeld}})
	if err != nil {
		return err
	}
	var good []int
	for _, f := range held {
		for _, p := range f.Pieces() {
			if _, bad := onDisk[p]; !bad {
				good = append(good, p)
			}
		}
	}
	if len(good) > 0 {
		tg, err := scrub.FromTorrent(t, files)
		if err != nil {
			return err
		}
		if err := syncPieces(tg, good); err != nil {
			return fmt.Errorf("verify: record %d held pieces of %s read good: %w", len(good), t.Name, err)
		}
		ups := make([]catalog.PieceUpdate, len(good))
		for i, p := range good {
			ups[i] = catalog.PieceUpdate{Piece: p, Complete: true}
		}
		if err := e.db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{t.ID: ups}); err != nil {
			return fmt.Errorf("verify: record %d held pieces of %s read good complete: %w", len(good), t.Name, err)
		}
	}
	// Held findings are ranges: the parts read good close as found
	// intact, the parts still bad stay and go to repairing.
	var repairing []int64
	for _, f := range held {
		var still []catalog.VerifyFinding
		for _, p := range f.Pieces() {
			if b, ok := onDisk[p]; ok {
				still = append(still, b)
			}
		}
		closed, err := e.db.ObserveFindings(ctx, catalog.FindingObservation{TorrentID: t.ID, First: f.Piece, Count: f.PieceCount,
			Bad: still}, e.clk.Now())
		if err != nil {
			return fmt.Errorf("verify: close findings of %s found intact: %w", t.Name, err)
		}
		e.closed(closed)
	}
	left, err := e.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: t.ID, States: []catalog.FindingState{catalog.FindingHeld}})
	if err != nil {
		return err
	}
	for _, f := range left {
		repairing = append(repairing, f.ID)
	}
	return e.db.SetVerifyFindingsState(ctx, repairing, catalog.FindingRepairing)
}

// stayUnavailable records the re-check's reason when it changed (one
// event and log line per change, not per attempt).
func (e *engine) stayUnavailable(ctx context.Context, t catalog.Torrent, res RecheckResult, cause catalog.AvailabilityCause, why string) (RecheckResult, error) {
	res.Reason = why
	if t.AvailabilityCause == cause && t.AvailabilityReason == why {
		return res, nil
	}
	// Another re-check (the daemon's, or `archivd resume`) may be writing
	// the same reason right now: only the one that changes it logs and
	// records the event.
	changed, err := e.db.ChangeAvailability(ctx, t.ID, catalog.AvailabilityOf{State: catalog.AvailabilityUnavailable, Cause: cause, Reason: why})
	if err != nil || !changed {
		return res, err
	}
	e.log.Warn().Int64("torrent_id", t.ID).Str("name", t.Name).Str("cause", string(cause)).Msg("torrent stays unavailable: " + why)
	return res, e.db.AddTorrentEvent(ctx, t.ID, "unavailable", why, map[string]any{"cause": cause})
}

func (e *engine) massLimit(ctx context.Context, t catalog.Torrent) float64 {
	if c, err := e.db.Collection(ctx, t.Collection); err == nil {
		return e.policyOf(c.VerifyPolicy).MassFailureRatio
	}
	return e.cfg.MassFailureRatio
}
