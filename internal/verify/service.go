package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/verify/scrub"
	"golang.org/x/sync/errgroup"
)

// Service is the daemon's verification: it opens scrub windows on the
// schedule, works queued runs (scheduled ones only inside a window, manual
// ones at once), resumes runs a crashed process left, follows repairs and
// writes reports.
type Service struct {
	e *engine
	// recheckWake: a torrent id whose catalog row changed, or 0 for all
	// (RecheckNow); see recheckLoop.
	recheckWake chan int64
	changes     *catalog.Notifier
	ownChanges  bool // changes is the service's own: Run runs it
}

// NewService checks the config (schedules, timezone, limits) and returns
// a service; Run starts it. The service's scrubs run in the background
// (scrub.Options.Background: nice 19, idle I/O class), so that the
// seeder beside them keeps its CPU and disk.
func NewService(cfg Config, db *catalog.DB) (*Service, error) {
	e, err := newEngine(cfg, db)
	if err != nil {
		return nil, err
	}
	e.background = true
	if cfg.Uploaded != nil {
		e.busy = newBusyGauge(cfg.Uploaded, time.Now)
		e.busyLim = scrub.NewLimiter(BusyRate, e.clk)
	}
	s := &Service{e: e, recheckWake: make(chan int64, 1), changes: cfg.Changes}
	if s.changes == nil {
		s.changes, s.ownChanges = db.NewNotifier(cfg.Logger), true
	}
	return s, nil
}

// Listening is closed once the service's catalog change listener is up:
// a run queued after that wakes the service at once, without a poll.
func (s *Service) Listening() <-chan struct{} { return s.changes.Ready() }

// Run runs the scheduler, the run worker and the repair follow-up until
// ctx ends.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	wake := make(chan struct{}, 1)
	defer s.changes.Subscribe(s.onChange(wake))()
	if s.ownChanges {
		g.Go(func() error { return s.changes.Run(ctx) })
	}
	g.Go(func() error { return s.scheduleLoop(ctx) })
	g.Go(func() error { return s.workLoop(ctx, wake) })
	g.Go(func() error { return s.repairLoop(ctx) })
	g.Go(func() error { return s.recheckLoop(ctx) })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// onChange wakes the work loop when a run is queued and the re-check loop
// when a torrent's row changed; a resync (the listener reconnected) wakes
// the work loop, which reads the queue afresh.
func (s *Service) onChange(wake chan<- struct{}) func(catalog.Change) {
	return func(c catalog.Change) {
		if c.Table == "torrents" && c.ID != 0 {
			select {
			case s.recheckWake <- c.ID:
			default: // a re-check is already pending
			}
		}
		if c.Resync || c.Table == "verify_runs" {
			select {
			case wake <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	}
}

func (s *Service) queueScheduled(ctx context.Context) error {
	unfinished, err := s.e.db.UnfinishedVerifyRuns(ctx, []catalog.RunKind{catalog.RunScheduled}, s.e.cfg.NodeID)
	if err != nil {
		return err
	}
	if len(unfinished) > 0 {
		return nil // the window's work continues in that run
	}
	// At most one queued scheduled run per node: one left queued (the
	// node busy, or a window still open) is this window's run too.
	if q, ok, err := s.e.db.QueuedScheduledRun(ctx, s.e.cfg.NodeID); err != nil || ok {
		if ok {
			s.e.log.Info().Int64("run", q.ID).Msg("verify window opened: its scheduled run is the one still queued")
		}
		return err
	}
	if noscrub, err := s.e.db.FleetFlagIsSet(ctx, catalog.FlagNoScrub); err != nil || noscrub {
		if noscrub {
			s.e.log.Warn().Msg("verify window opened: fleet flag noscrub is set: no scheduled run in this window ('archivd fleet unset noscrub'; 'archivd verify' still runs)")
		}
		return err
	}
	id, err := s.e.db.CreateVerifyRun(ctx, catalog.RunScheduled, []byte(`{}`), s.e.cfg.NodeID, s.e.clk.Now())
	if err != nil {
		return err
	}
	s.e.log.Info().Int64("run", id).Msg("verify window opened")
	return nil
}

// skipClosed cancels this node's scheduled run still queued once no
// window is open (catalog.RunSkippedByWindow), saying why it did not start.
func (s *Service) skipClosed(ctx context.Context) error {
	e := s.e
	why := "no daemon of this node claimed it while it was open"
	running, err := e.db.UnfinishedVerifyRuns(ctx, []catalog.RunKind{catalog.RunScheduled, catalog.RunManual, catalog.RunReadError}, e.cfg.NodeID)
	if err != nil {
		return err
	}
	if noscrub, err := e.db.FleetFlagIsSet(ctx, catalog.FlagNoScrub); err != nil {
		return err
	} else if noscrub {
		why = "fleet flag noscrub is set"
	}
	if len(running) > 0 {
		why = fmt.Sprintf("this node was busy with %s run %d", running[0].Kind, running[0].ID)
	}
	ids, err := e.db.SkipQueuedScheduledRuns(ctx, e.cfg.NodeID, why, e.clk.Now())
	for _, id := range ids {
		e.log.Warn().Int64("run", id).Str("why", why).Msg("verify window closed before its scheduled run started: run skipped ('archivd verify' runs one now)")
	}
	return err
}

func (s *Service) workOnce(ctx context.Context) (bool, error) {
	e := s.e
	end, open := e.win.current(e.clk.Now())
	running, err := e.db.UnfinishedVerifyRuns(ctx, []catalog.RunKind{catalog.RunScheduled, catalog.RunManual, catalog.RunReadError}, e.cfg.NodeID)
	if err != nil {
		return false, err
	}
	noscrub, err := e.db.FleetFlagIsSet(ctx, catalog.FlagNoScrub)
	if err != nil {
		return false, err
	}
	if noscrub && open {
		// Scheduled runs left running do not start again while noscrub
		// is set (one executing now runs on: it is not started).
		running = slices.DeleteFunc(running, func(r catalog.VerifyRun) bool { return r.Kind == catalog.RunScheduled })
	}
	if len(running) > 0 {
		// One run at a time: the caller comes back for the next.
		r := running[0]
		if r.Kind == catalog.RunScheduled && !open {
			return true, e.stop(ctx, r, catalog.RunCancelled, catalog.RunCutByWindow+": the ranges left are first in the next window")
		}
		if r.PausedAt != nil {
			return false, nil // held by the operator: wait for resume or cancel
		}
		return true, s.finishRun(ctx, r, end, false)
	}
	kinds := []catalog.RunKind{catalog.RunManual, catalog.RunReadError}
	if open && !noscrub {
		kinds = append(kinds, catalog.RunScheduled)
	}
	r, ok, err := e.db.ClaimVerifyRun(ctx, kinds, e.cfg.NodeID, e.clk.Now())
	if err != nil || !ok {
		return false, err
	}
	return true, s.finishRun(ctx, r, end, true)
}

// finishRun plans (if fresh), executes and reports a run. Manual runs are
// not cut by windows.
func (s *Service) finishRun(ctx context.Context, r catalog.VerifyRun, end time.Time, fresh bool) error {
	e := s.e
	if fresh {
		if err := e.plan(ctx, r); err != nil {
			_ = e.db.FinishVerifyRun(ctx, r.ID, catalog.RunFailed, err.Error(), e.clk.Now())
			return fmt.Errorf("verify: plan run %d: %w", r.ID, err)
		}
	}
	if r.Kind != catalog.RunScheduled {
		end = time.Time{}
	}
	err := e.execute(ctx, r, end, nil)
	switch {
	case errors.Is(err, errRunPaused):
		return e.stopped(ctx, r, err)
	case errors.Is(err, errRunStopped):
		if err := e.stopped(ctx, r, err); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("verify: run %d: %w", r.ID, err)
	}
	return s.publish(ctx, r.ID)
}
