package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/verify/scrub"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// tally counts a run's failed ranges, gathers its bad pieces and reports
// progress; safe for the device workers to share.
type tally struct {
	mu       sync.Mutex
	failed   int
	progress func(done, total int64)
	bad      badLog
}

// jobDone records a job's outcome (a failed range is marked failed and
// counted) and reports progress. A non-nil return ends the execution: ctx
// ended (the run stays running; its leases expire and it resumes) or the
// catalog failed.
func (e *engine) jobDone(ctx context.Context, run catalog.VerifyRun, job catalog.VerifyJob, err error, t *tally) error {
	switch {
	case errors.Is(err, errWindowEnded):
		return nil // the caller sees the window closed
	case isControl(err):
		return nil // the caller's control check stops the run
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		t.mu.Lock()
		t.failed++
		t.mu.Unlock()
		e.log.Error().Err(err).Int64("run", run.ID).Int64("torrent_id", job.TorrentID).Int("first_piece", job.First).Msg("verify range failed")
		if ferr := e.db.FailVerifyJob(ctx, job.ID, err.Error(), e.clk.Now()); ferr != nil {
			return ferr
		}
	}
	if t.progress != nil {
		if r, err := e.db.VerifyRunByID(ctx, run.ID); err == nil {
			t.mu.Lock()
			t.progress(r.BytesHashed, r.BytesPlanned)
			t.mu.Unlock()
		}
	}
	return nil
}

// executeByDevice reads the devices of a run in parallel: the torrents
// with jobs left are grouped by the device (st_dev) of their data
// directory and each group gets a worker that claims only its jobs, so a
// node with N disks scrubs them at once, each disk read sequentially by
// one reader. It returns when every worker has no job left to claim (or
// the window closed); with fewer than two devices it does nothing, and
// execute's one-at-a-time loop does the work (and waits for jobs leased
// by other processes).
func (e *engine) executeByDevice(ctx context.Context, run catalog.VerifyRun, end time.Time, t *tally) error {
	groups, err := e.byDevice(ctx, run.ID)
	if err != nil || len(groups) < 2 {
		return err
	}
	e.log.Info().Int64("run", run.ID).Int("devices", len(groups)).Msg("verify: reading devices in parallel")
	g, gctx := errgroup.WithContext(ctx)
	for _, ids := range groups {
		g.Go(func() error {
			targets := map[int64]*scrub.Target{}
			for end.IsZero() || e.clk.Now().Before(end) {
				if err := e.controlErr(gctx, run.ID); err != nil {
					return err
				}
				e.beat.Beat()
				job, ok, err := e.db.ClaimVerifyJobAmong(gctx, run.ID, ids, e.owner, e.clk.Now(), e.cfg.Lease)
				if err != nil || !ok {
					return err
				}
				if err := e.jobDone(gctx, run, job, e.doJob(gctx, job, end, targets, t), t); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// byDevice groups the run's torrents with jobs left by the device of
// their data directory, in torrent order.
func (e *engine) byDevice(ctx context.Context, runID int64) ([][]int64, error) {
	ids, err := e.db.VerifyRunTorrentsLeft(ctx, runID)
	if err != nil || len(ids) < 2 {
		return nil, err
	}
	index := map[uint64]int{}
	var groups [][]int64
	for _, id := range ids {
		tr, err := e.db.TorrentByID(ctx, id)
		if err != nil {
			return nil, err
		}
		dev, err := e.devOf(tr.DataDir)
		if err != nil {
			// Unreadable: the scrub reports it; group it with the first device.
			e.log.Warn().Err(err).Int64("torrent_id", id).Str("data_dir", tr.DataDir).Msg("verify: device of data dir")
		}
		i, ok := index[dev]
		if !ok {
			i = len(groups)
			index[dev] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], id)
	}
	return groups, nil
}

// deviceOf returns the device holding path, or its nearest existing
// parent when path is missing (a vanished data dir is still read, and
// found missing, with its disk's other torrents).
func deviceOf(path string) (uint64, error) {
	for p := path; ; p = filepath.Dir(p) {
		var st unix.Stat_t
		err := unix.Stat(p, &st)
		if err == nil {
			return st.Dev, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || p == filepath.Dir(p) {
			return 0, fmt.Errorf("stat %s: %w", p, err)
		}
	}
}
