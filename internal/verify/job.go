package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// doJob scrubs one leased range and stores its outcome. The lease is
// extended while it works; the scrub stops at the window end.
func (e *engine) doJob(ctx context.Context, j catalog.VerifyJob, end time.Time, cache map[int64]*scrub.Target) error {
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
	// Only pieces the catalog records complete (verified, durable) can rot:
	// the others are still to be downloaded, and their absence is no finding.
	ps, err := e.db.LoadPieces(ctx, j.TorrentID, j.First+j.Count)
	if err != nil {
		return err
	}
	recorded := func(p int) bool { return ps.Known.Get(p) && ps.Complete.Get(p) }
	checked := 0
	for p := j.First; p < j.First+j.Count; p++ {
		if recorded(p) {
			checked++
		}
	}
	sum.Bad = slices.DeleteFunc(sum.Bad, func(b scrub.Result) bool { return !recorded(b.Piece) })
	res := catalog.VerifyJobResult{BytesHashed: sum.BytesHashed, PiecesChecked: int64(checked)}
	for _, b := range sum.Bad {
		res.Findings = append(res.Findings, catalog.VerifyFinding{RunID: j.RunID, TorrentID: j.TorrentID, Piece: b.Piece,
			FileIndex: b.File, FilePath: b.Path, FileOffset: b.Offset, Kind: b.Kind, Detail: b.Detail})
	}
	for _, b := range sum.Bad {
		e.log.Warn().Int64("torrent_id", j.TorrentID).Int("piece", b.Piece).Str("kind", string(b.Kind)).
			Str("file", b.Path).Int64("offset", b.Offset).Msg("verify: bad piece")
	}
	if err := e.db.CompleteVerifyJob(ctx, j, e.owner, res, e.clk.Now()); err != nil {
		return err
	}
	if o := e.cfg.Observer; o != nil {
		o.Hashed(sum.BytesHashed)
	}
	return nil
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
