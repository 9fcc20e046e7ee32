package verify

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// windows are the scrub windows: each schedule opens one that lasts maxRun
// (0: until the run is done).
type windows struct {
	scheds []cron.Schedule
	maxRun time.Duration
	loc    *time.Location
}

func newWindows(specs []string, tz string, maxRun time.Duration) (*windows, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("verify: timezone %q: %w", tz, err)
	}
	p := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	w := &windows{maxRun: maxRun, loc: loc}
	for _, spec := range specs {
		s, err := p.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("verify: schedule %q: %w", spec, err)
		}
		if every, ok := s.(cron.ConstantDelaySchedule); ok {
			s = everySchedule{every.Delay}
		}
		w.scheds = append(w.scheds, s)
	}
	return w, nil
}

// everySchedule is "@every D" on a fixed grid: openings at the multiples
// of D (since Go's zero time). cron's own ConstantDelaySchedule counts D
// from whatever time it is asked about, so no opening ever lay in the
// past: with max_run shorter than D, current found no open window, no
// scheduled run was ever claimed, and a queued run was added at each
// opening ("@every 24h" with the default max_run of 6h never scrubbed).
type everySchedule struct{ d time.Duration }

func (e everySchedule) Next(t time.Time) time.Time { return t.Truncate(e.d).Add(e.d) }

// next returns the first window opening strictly after t.
func (w *windows) next(t time.Time) time.Time {
	var best time.Time
	for _, s := range w.scheds {
		n := s.Next(t.In(w.loc))
		if best.IsZero() || n.Before(best) {
			best = n
		}
	}
	return best
}

// current returns the window open at t (opened at or before t, not yet
// closed) and its end; ok is false when none is open. With maxRun 0 runs
// are not cut: every time is inside a window with no end (zero end).
func (w *windows) current(t time.Time) (end time.Time, ok bool) {
	if w.maxRun == 0 {
		return time.Time{}, true
	}
	// cron has no Prev: step Next from the earliest opening that could
	// still be open.
	var open time.Time
	for o := w.next(t.Add(-w.maxRun)); !o.IsZero() && !o.After(t); o = w.next(o) {
		open = o
	}
	if open.IsZero() {
		return time.Time{}, false
	}
	end = open.Add(w.maxRun)
	return end, t.Before(end)
}

// NextWindow returns when the next scrub window of cfg's schedules opens
// after t.
func NextWindow(cfg Config, t time.Time) (time.Time, error) {
	cfg = cfg.withDefaults()
	w, err := newWindows(cfg.Schedules, cfg.Timezone, cfg.MaxRun)
	if err != nil {
		return time.Time{}, err
	}
	return w.next(t), nil
}
