package verify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// target loads (once per run) what the scrubber needs for a torrent.
func (e *engine) target(ctx context.Context, id int64, cache map[int64]*scrub.Target) (*scrub.Target, error) {
	if t, ok := cache[id]; ok {
		return t, nil
	}
	t, err := e.db.TorrentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	files, err := e.db.Files(ctx, id)
	if err != nil {
		return nil, err
	}
	tg, err := scrub.FromTorrent(t, files)
	if err != nil {
		return nil, err
	}
	cache[id] = tg
	return tg, nil
}

// doJob scrubs one leased range and stores its outcome (its bad pieces
// go to the run's summary in t). The lease is
// extended while it works; the scrub stops at the window end.
func (e *engine) doJob(ctx context.Context, j catalog.VerifyJob, end time.Time, cache map[int64]*scrub.Target, t *tally) error {
	tg, err := e.target(ctx, j.TorrentID, cache)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wg.Go(func() { e.keepLease(jctx, j, cancel) })
	wg.Go(func() { e.watchControl(jctx, j.RunID, cancel) })
	if !end.IsZero() {
		wg.Go(func() {
			select {
			case <-e.clk.After(end.Sub(e.clk.Now())):
				cancel(errWindowEnded)
			case <-jctx.Done():
			}
		})
	}
	sum, err := scrub.Scrub(jctx, tg, j.First, j.Count, scrub.Options{
		Workers: e.cfg.Workers, BlockSize: e.cfg.BlockSize, Limiter: e.lim, Open: e.cfg.Open, Map: !e.cfg.NoMap,
		Background: e.background, Busy: e.busyFunc(), BusyLimiter: e.busyLim})
	if err != nil {
		if c := context.Cause(jctx); c != nil && ctx.Err() == nil {
			return fmt.Errorf("verify torrent %d pieces %d+%d: %w", j.TorrentID, j.First, j.Count, c)
		}
		return err
	}
	v, err := e.judge(ctx, j.TorrentID, j.First, j.Count, sum.Bad)
	if err != nil {
		return err
	}
	res := catalog.VerifyJobResult{BytesHashed: sum.BytesHashed, PiecesChecked: int64(v.checked), Bad: v.bad,
		Sources: e.sourcesOf(j.TorrentID, v.flagged, v.bad)}
	t.bad.add(e.log, res.Bad)
	closed, err := e.db.CompleteVerifyJob(ctx, j, e.owner, res, e.clk.Now())
	if err != nil {
		return err
	}
	e.closed(closed)
	if o := e.cfg.Observer; o != nil {
		o.Hashed(sum.BytesHashed)
	}
	return e.recordIntact(ctx, tg, j.TorrentID, v.intact)
}

// verdict is what a read of a range means for the catalog.
type verdict struct {
	checked int                     // pieces judged
	bad     []catalog.VerifyFinding // judged pieces that failed
	intact  []int                   // judged pieces read good and not recorded complete
	flagged map[int]bool            // pieces an open finding covers
}

// judge decides which pieces of [first, first+count) a read can judge:
// those recorded complete, those of open findings and those never
// recorded (a fresh import, or released by `archivd resume --force`). A piece
// recorded not complete and in no finding is still to be downloaded: its
// absence is no damage.
func (e *engine) judge(ctx context.Context, torrentID int64, first, count int, bad []scrub.Result) (verdict, error) {
	ps, err := e.db.LoadPieces(ctx, torrentID, first+count)
	if err != nil {
		return verdict{}, err
	}
	flagged, err := e.db.OpenFindingPieces(ctx, torrentID, first, count)
	if err != nil {
		return verdict{}, err
	}
	judged := func(p int) bool { return flagged[p] || ps.State(p) != catalog.PieceNotComplete }
	v := verdict{flagged: flagged}
	failed := map[int]bool{}
	for _, b := range bad {
		if judged(b.Piece) {
			failed[b.Piece] = true
			v.bad = append(v.bad, catalog.VerifyFinding{TorrentID: torrentID, Piece: b.Piece, FileIndex: b.File,
				FilePath: b.Path, FileOffset: b.Offset, Kind: b.Kind, Detail: b.Detail})
		}
	}
	for p := first; p < first+count; p++ {
		if !judged(p) {
			continue
		}
		v.checked++
		if !failed[p] && ps.State(p) != catalog.PieceComplete {
			v.intact = append(v.intact, p)
		}
	}
	return v, nil
}

// busyFunc is the scrub's Busy option: nil when nothing is watched.
func (e *engine) busyFunc() func() bool {
	if e.busy == nil {
		return nil
	}
	return e.busy.busy
}

// keepLease extends the job's lease every Lease/3; if the lease is lost
// (another worker took the job over) the scrub is cancelled.
func (e *engine) keepLease(ctx context.Context, j catalog.VerifyJob, cancel context.CancelCauseFunc) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.clk.After(e.cfg.Lease / 3):
		}
		err := e.db.ExtendVerifyLease(ctx, j.ID, e.owner, e.clk.Now().Add(e.cfg.Lease))
		if errors.Is(err, catalog.ErrLeaseLost) {
			cancel(err)
			return
		}
		if err != nil && ctx.Err() == nil {
			e.log.Warn().Err(err).Int64("job", j.ID).Msg("verify: extend lease")
		}
	}
}
