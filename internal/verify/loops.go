package verify

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/heartbeat"
)

// The service's loops follow the daemon's one policy: a failing catalog
// call backs off (internal/backoff) and is logged once when it starts
// failing and once when it works again; only the context stops a loop.
// Each loop beats its heartbeat while working and waits otherwise.

// loopWithin bounds how long a loop may work between beats before the
// daemon counts it as hung (a verify job re-beats per range).
const loopWithin = 10 * time.Minute

func (s *Service) retry(what string) *backoff.Retry {
	return &backoff.Retry{Backoff: backoff.Backoff{Min: time.Second, Max: time.Minute}, Log: s.e.log, What: what}
}

// scheduleLoop queues a scheduled run when a window opens (and at start
// when one is open and has no run yet), and skips the node's scheduled run
// still queued when its window closes (and at start when none is open): a
// window's run is started in that window or not at all, so runs that
// cannot be worked (the node busy with another run, its catalog away) do
// not pile up one per window. A catalog error is retried with backoff
// until the step is done.
func (s *Service) scheduleLoop(ctx context.Context) error {
	e := s.e
	beat := e.cfg.Heartbeats.Register("verify scheduler", loopWithin)
	queue := s.retry("verify scheduler: queue the window's run")
	skip := s.retry("verify scheduler: skip the closed window's queued run")
	// queuedFor is the end of the window last queued for: a window found
	// open without a run (at start, or its opening passed while this loop
	// was working) is queued for at once. skipDue: a window closed (or
	// the daemon starts) and its run may be left queued.
	var queuedFor time.Time
	skipDue := true
	for {
		now := e.clk.Now()
		end, open := e.win.current(now)
		if open && e.cfg.MaxRun > 0 && !end.Equal(queuedFor) {
			if err := s.untilDone(ctx, queue, beat, s.queueScheduled); err != nil {
				return err
			}
			queuedFor, skipDue = end, true // skipped once no window is open
			continue
		}
		if !open && skipDue {
			if err := s.untilDone(ctx, skip, beat, s.skipClosed); err != nil {
				return err
			}
			skipDue = false
			continue
		}
		wake, opens := e.win.next(now), true
		if open && !end.IsZero() && end.Before(wake) {
			wake, opens = end, false
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.clk.After(wake.Sub(now)):
		}
		if !opens {
			skipDue = true // skipped above unless another window is still open
			continue
		}
		if e.cfg.MaxRun == 0 {
			// Windows that never close: each opening queues a run (or
			// takes the one still queued as its own).
			if err := s.untilDone(ctx, queue, beat, s.queueScheduled); err != nil {
				return err
			}
		}
	}
}

func (s *Service) untilDone(ctx context.Context, r *backoff.Retry, beat *heartbeat.Beat, step func(context.Context) error) error {
	defer beat.Wait()
	for {
		beat.Beat()
		err := step(ctx)
		if err == nil {
			r.OK()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		beat.Wait()
		if err := backoff.Sleep(ctx, r.Fail(err)); err != nil {
			return err
		}
	}
}

// workLoop executes runs one after the other: left-over running runs
// first (their expired leases are claimed again), then queued ones.
func (s *Service) workLoop(ctx context.Context, wake <-chan struct{}) error {
	beat := s.e.cfg.Heartbeats.Register("verify worker", loopWithin)
	s.e.beat = beat
	r := s.retry("verify worker: run queued verifications")
	for {
		beat.Beat()
		worked, err := s.workOnce(ctx)
		beat.Wait()
		wait := s.e.cfg.Poll
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			wait = max(wait, r.Fail(err))
		case worked:
			r.OK()
			continue
		default:
			r.OK()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// repairLoop follows pieces handed to the seeder until they read back good.
func (s *Service) repairLoop(ctx context.Context) error {
	beat := s.e.cfg.Heartbeats.Register("verify repair follow-up", loopWithin)
	r := s.retry("verify: repair follow-up")
	for {
		beat.Beat()
		wait := s.e.cfg.RepairPoll
		if err := s.e.repairOnce(ctx); err != nil && ctx.Err() == nil {
			wait = max(wait, r.Fail(err))
		} else {
			r.OK()
		}
		beat.Wait()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.e.clk.After(wait):
		}
	}
}
