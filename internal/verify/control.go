package verify

import (
	"context"
	"errors"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// Operator control (`archivd verify pause|resume|cancel`) arrives through
// the catalog: the run's paused_at and state. A scrub in progress checks
// it every ControlPoll and stops its range; the loops check it before each
// claim.

var (
	// errRunPaused stops the execution of a paused run; its range is given
	// back and the run waits, still running, for resume.
	errRunPaused = errors.New("verify run paused by the operator")
	// errRunStopped stops the execution of a run cancelled from outside.
	errRunStopped = errors.New("verify run cancelled by the operator")
)

// controlErr returns errRunPaused or errRunStopped when the run must not
// go on, nil when it may.
func (e *engine) controlErr(ctx context.Context, runID int64) error {
	c, err := e.db.VerifyRunControl(ctx, runID)
	switch {
	case err != nil:
		return err
	case c == catalog.RunPaused:
		return errRunPaused
	case c == catalog.RunStopped:
		return errRunStopped
	}
	return nil
}

// watchControl cancels a range's scrub (cause errRunPaused or
// errRunStopped) as soon as the operator pauses or cancels its run. It
// polls in real time: control comes from people, not from the scrub clock.
func (e *engine) watchControl(ctx context.Context, runID int64, cancel context.CancelCauseFunc) {
	t := time.NewTicker(e.cfg.ControlPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.controlErr(ctx, runID); errors.Is(err, errRunPaused) || errors.Is(err, errRunStopped) {
			cancel(err)
			return
		}
	}
}

func isControl(err error) bool { return errors.Is(err, errRunPaused) || errors.Is(err, errRunStopped) }

// stopped handles a run that execute gave up for control: a paused one
// just waits (nil); a cancelled one has its findings settled, is logged
// and counted like a run that finished.
func (e *engine) stopped(ctx context.Context, run catalog.VerifyRun, err error) error {
	if errors.Is(err, errRunPaused) {
		e.log.Info().Int64("run", run.ID).Msg("verify run paused by the operator")
		return nil
	}
	if err := e.afterRun(ctx, run.ID); err != nil {
		return err
	}
	r, err := e.db.VerifyRunByID(ctx, run.ID)
	if err != nil {
		return err
	}
	e.log.Info().Int64("run", r.ID).Str("state", string(r.State)).Int64("bytes_hashed", r.BytesHashed).
		Msg("verify run cancelled by the operator")
	if o := e.cfg.Observer; o != nil && r.StartedAt != nil && r.FinishedAt != nil {
		o.RunFinished(r, r.FinishedAt.Sub(*r.StartedAt))
	}
	return nil
}

// waitWhilePaused blocks an offline run while it is paused; it returns
// errRunStopped when the run is cancelled meanwhile.
func (e *engine) waitWhilePaused(ctx context.Context, runID int64) error {
	for {
		err := e.controlErr(ctx, runID)
		if !errors.Is(err, errRunPaused) {
			return err
		}
		if err := sleep(ctx, e.cfg.ControlPoll); err != nil {
			return err
		}
	}
}

// releaseIfControl gives back the ranges this process holds when err
// stops the run for a pause or cancel, and returns err.
func (e *engine) releaseIfControl(ctx context.Context, runID int64, err error) error {
	if !isControl(err) {
		return err
	}
	if rerr := e.db.ReleaseVerifyJobs(ctx, runID, e.owner); rerr != nil {
		return rerr
	}
	return err
}
