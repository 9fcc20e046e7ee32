package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/heartbeat"
	"github.com/archivd/archivd/internal/verify/scrub"
	"github.com/rs/zerolog"
)

// engine executes runs; Service and RunOffline share it.
type engine struct {
	cfg   Config
	db    *catalog.DB
	log   zerolog.Logger
	clk   Clock
	lim   *scrub.Limiter
	win   *windows
	owner string // lease owner: unique per process
	// background: scrub at the lowest CPU and I/O priority (the daemon's
	// service); RunOffline scrubs at normal priority.
	background bool
	// beat is the worker's heartbeat (nil offline): beaten per job.
	beat *heartbeat.Beat
	// busy (nil = never) slows the service's scrubs to busyLim while the
	// seeder uploads.
	busy    *busyGauge
	busyLim *scrub.Limiter
	// devOf names the device of a data dir (deviceOf; tests inject).
	devOf func(path string) (uint64, error)

	// told keeps the repair sources the Repairer has told (it tells each
	// once) until their findings are recorded repaired, so that a failed
	// catalog write does not lose who repaired a piece.
	toldMu sync.Mutex
	told   map[pieceRef]string
}

func newEngine(cfg Config, db *catalog.DB) (*engine, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	win, err := newWindows(cfg.Schedules, cfg.Timezone, cfg.MaxRun)
	if err != nil {
		return nil, err
	}
	devOf := deviceOf
	if cfg.deviceOf != nil {
		devOf = cfg.deviceOf
	}
	return &engine{
		cfg: cfg, db: db, log: cfg.Logger, clk: cfg.Clock, win: win,
		lim:   scrub.NewLimiter(cfg.Rate, cfg.Clock),
		owner: fmt.Sprintf("%s/%d/%d", cfg.NodeID, os.Getpid(), time.Now().UnixNano()),
		devOf: devOf,
	}, nil
}

// plan lays out ranges for the run's torrents and queues the due ones.
func (e *engine) plan(ctx context.Context, run catalog.VerifyRun) error {
	scope, err := parseScope(run.Scope)
	if err != nil {
		return err
	}
	ts, err := resolve(ctx, e.db, scope, run.Kind == catalog.RunScheduled)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		per := int(max(1, e.cfg.RangeBytes/t.PieceLength))
		if err := e.db.EnsureVerifyRanges(ctx, t.ID, t.PieceCount, per); err != nil {
			return err
		}
		ids = append(ids, t.ID)
	}
	var jobs int
	var bytes int64
	if run.Kind == catalog.RunScheduled {
		// Everything that would be overdue before the next window opens.
		jobs, bytes, err = e.planDue(ctx, run.ID, ts)
	} else {
		jobs, bytes, err = e.db.PlanVerifyJobs(ctx, run.ID, ids, nil)
	}
	if err != nil {
		return err
	}
	e.log.Info().Int64("run", run.ID).Str("kind", string(run.Kind)).Int("torrents", len(ids)).Int("ranges", jobs).
		Int64("bytes", bytes).Msg("verify run planned")
	return e.db.SetVerifyRunPlanned(ctx, run.ID, bytes)
}

// errWindowEnded stops a run at its window's end.
var errWindowEnded = errors.New("verify window ended")

// execute works a run's jobs until none is left, ctx ends or the window
// closes (end; zero = none): while the jobs left lie on more than one
// device, one worker per device (see executeByDevice), then one job at a
// time (the scrubber itself uses all cores). progress, if set, sees bytes
// hashed and planned after each range.
func (e *engine) execute(ctx context.Context, run catalog.VerifyRun, end time.Time, progress func(done, total int64)) error {
	targets := map[int64]*scrub.Target{}
	t := &tally{progress: progress}
	defer t.bad.flush(e.log, run.ID)
	if err := e.executeByDevice(ctx, run, end, t); err != nil {
		return e.releaseIfControl(ctx, run.ID, err)
	}
	for {
		if !end.IsZero() && !e.clk.Now().Before(end) {
			// Recorded as finished at the window's end, however long
			// settling its findings takes.
			return e.stopAt(ctx, run, catalog.RunCancelled, catalog.RunCutByWindow+": the ranges left are first in the next window", end)
		}
		if err := e.controlErr(ctx, run.ID); err != nil {
			return e.releaseIfControl(ctx, run.ID, err)
		}
		e.beat.Beat()
		job, ok, err := e.db.ClaimVerifyJob(ctx, run.ID, e.owner, e.clk.Now(), e.cfg.Lease)
		if err != nil {
			return err
		}
		if !ok {
			left, err := e.db.RemainingVerifyJobs(ctx, run.ID)
			if err != nil || left == 0 {
				break
			}
			// Another worker's lease: wait for it to finish or expire.
			if err := sleep(ctx, e.cfg.Poll); err != nil {
				return err
			}
			continue
		}
		if err := e.jobDone(ctx, run, job, e.doJob(ctx, job, end, targets, t), t); err != nil {
			return err
		}
	}
	t.bad.flush(e.log, run.ID) // before the run's end is logged
	failedJobs := t.failed
	if err := e.afterRun(ctx, run.ID); err != nil {
		return err
	}
	msg := ""
	if failedJobs > 0 {
		msg = fmt.Sprintf("%d ranges could not be verified (see log)", failedJobs)
	}
	return e.stop(ctx, run, catalog.RunDone, msg)
}

func (e *engine) stop(ctx context.Context, run catalog.VerifyRun, state catalog.RunState, msg string) error {
	return e.stopAt(ctx, run, state, msg, time.Time{})
}

// stopAt finishes a run at time at (zero: now).
func (e *engine) stopAt(ctx context.Context, run catalog.VerifyRun, state catalog.RunState, msg string, at time.Time) error {
	if state == catalog.RunCancelled {
		if err := e.afterRun(ctx, run.ID); err != nil {
			return err
		}
	}
	if at.IsZero() {
		at = e.clk.Now()
	}
	if err := e.db.FinishVerifyRun(ctx, run.ID, state, msg, at); err != nil {
		return err
	}
	r, err := e.db.VerifyRunByID(ctx, run.ID)
	if err != nil {
		return err
	}
	e.log.Info().Int64("run", r.ID).Str("state", string(state)).Int64("bytes_hashed", r.BytesHashed).
		Int64("pieces_checked", r.PiecesChecked).Int64("pieces_failed", r.PiecesFailed).Msg("verify run finished")
	if o := e.cfg.Observer; o != nil {
		var d time.Duration
		if r.StartedAt != nil && r.FinishedAt != nil {
			d = r.FinishedAt.Sub(*r.StartedAt)
		}
		o.RunFinished(r, d)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
