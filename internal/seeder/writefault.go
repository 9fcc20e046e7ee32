package seeder

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/catalog"
)

// Write-fault retry pacing: downloads of a degraded torrent are allowed
// again after this backoff; a write that fails again suspends them anew.
const (
	faultRetryMin = 5 * time.Second
	faultRetryMax = 5 * time.Minute
)

// writeFaults tracks torrents whose writes fail (availability degraded).
// Events are handled by faultLoop, the only goroutine that changes the
// catalog and the engine for them.
type writeFaults struct {
	n      atomic.Int32 // len(byID), read on every write
	mu     sync.Mutex
	byID   map[int64]*writeFault
	events chan faultEvent
}

type writeFault struct {
	cause   catalog.AvailabilityCause
	retry   backoff.Backoff
	next    time.Time // when downloads are allowed again; zero while allowed
	ending  bool      // a successful write was seen; faultLoop ends it
	dropped int       // write errors since the fault began
	retries int       // retries that failed again
}

type faultEvent struct {
	id    int64
	ok    bool // a write worked
	cause catalog.AvailabilityCause
	err   error
}

func newWriteFaults() *writeFaults {
	return &writeFaults{byID: map[int64]*writeFault{}, events: make(chan faultEvent, 256)}
}

// report hands an event to faultLoop; if it is busy the event is dropped:
// the engine's next write reports again.
func (w *writeFaults) report(ev faultEvent) {
	select {
	case w.events <- ev:
	default:
	}
}

// faultLoop owns the write faults: one catalog change, event and log line
// per change of state, retries with backoff.
func (s *Seeder) faultLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-s.faults.events:
			if ev.cause == catalog.CauseDataMissing {
				s.dataDirGone(ctx, ev.id, ev.err)
				continue
			}
			if ev.ok {
				s.faultEnded(ctx, ev.id)
			} else {
				s.faultSeen(ctx, ev)
			}
		case now := <-tick.C:
			s.faultRetries(now)
		}
	}
}

func (s *Seeder) faultSeen(ctx context.Context, ev faultEvent) {
	e := s.entry(ev.id)
	if e == nil || e.t == nil {
		return
	}
	s.faults.mu.Lock()
	f := s.faults.byID[ev.id]
	isNew := f == nil
	if isNew {
		f = &writeFault{retry: backoff.Backoff{Min: faultRetryMin, Max: faultRetryMax}}
		s.faults.byID[ev.id] = f
		s.faults.n.Add(1)
	}
	f.dropped++
	f.ending = false
	changed := f.cause != ev.cause
	f.cause = ev.cause
	suspend := f.next.IsZero()
	retried := suspend && !isNew // a retry failed: its first failed write
	if suspend {
		f.next = time.Now().Add(f.retry.Next())
	}
	if retried {
		f.retries++
	}
	retryIn, retries, failed := time.Until(f.next), f.retries, f.dropped
	s.faults.mu.Unlock()
	if suspend {
		e.t.DisallowDataDownload()
	}
	if retried && !changed {
		// One line per retry (backoff up to faultRetryMax), however many
		// chunks were in flight: the engine's own line per failed chunk
		// is debug only (slog.go).
		s.log.Warn().Err(ev.err).Str("torrent", e.row.HexHash()).Str("name", e.row.Name).Str("cause", string(ev.cause)).
			Int("retry", retries).Int("failed_writes", failed).Int64("retry_in_ms", retryIn.Milliseconds()).
			Msg("torrent still degraded: writing its data failed again after a retry; downloads suspended again")
	}
	if !changed {
		return
	}
	reason := fmt.Sprintf("writing data failed (%s): %v; downloads suspended, retried with backoff", ev.cause, ev.err)
	s.log.Error().Err(ev.err).Str("torrent", e.row.HexHash()).Str("name", e.row.Name).Str("cause", string(ev.cause)).
		Int64("retry_in_ms", retryIn.Milliseconds()).Msg("torrent degraded: writing its data fails; still seeding, downloads suspended and retried with backoff")
	s.setAvailability(ctx, e.row.ID, catalog.AvailabilityOf{State: catalog.AvailabilityDegraded, Cause: ev.cause, Reason: reason}, "write_fault")
}

func (s *Seeder) faultEnded(ctx context.Context, id int64) {
	s.faults.mu.Lock()
	f := s.faults.byID[id]
	if f == nil || !f.ending {
		s.faults.mu.Unlock()
		return
	}
	delete(s.faults.byID, id)
	s.faults.n.Add(-1)
	s.faults.mu.Unlock()
	name := ""
	if e := s.entry(id); e != nil {
		name = e.row.Name
	}
	s.log.Info().Int64("torrent_id", id).Str("name", name).Str("cause", string(f.cause)).Int("failed_writes", f.dropped).
		Msg("torrent available again: writing its data works")
	if ok, err := s.db.ClearAvailability(ctx, id, catalog.AvailabilityDegraded); err != nil {
		s.log.Warn().Err(err).Int64("torrent_id", id).Msg("record the end of a write fault")
	} else if ok {
		_ = s.db.AddTorrentEvent(ctx, id, "write_fault_ended", "writing data works again", map[string]any{"cause": f.cause})
	}
}

// faultRetries allows downloads again for faults whose backoff has passed.
func (s *Seeder) faultRetries(now time.Time) {
	var due []int64
	s.faults.mu.Lock()
	for id, f := range s.faults.byID {
		if !f.next.IsZero() && now.After(f.next) {
			f.next = time.Time{}
			due = append(due, id)
		}
	}
	s.faults.mu.Unlock()
	for _, id := range due {
		if e := s.entry(id); e != nil && e.t != nil {
			e.t.AllowDataDownload()
		}
	}
}

// setAvailability records an availability change and its event; a
// catalog error is logged (the fault loop goes on, the state is in memory).
func (s *Seeder) setAvailability(ctx context.Context, id int64, a catalog.AvailabilityOf, event string) {
	if err := s.db.SetAvailability(ctx, id, a); err != nil {
		s.log.Warn().Err(err).Int64("torrent_id", id).Msg("record availability " + string(a.State))
		return
	}
	_ = s.db.AddTorrentEvent(ctx, id, event, a.Reason, map[string]any{"cause": a.Cause})
}

func (s *Seeder) entry(id int64) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[id]
}
