package verify

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/catalog"
)

// Re-check pacing of unavailable torrents. A re-check whose data is still
// absent costs a few stat calls; one that hashed the data and found it bad
// costs a whole read of the torrent, so it backs off further.
const (
	recheckMin        = 30 * time.Second
	recheckMaxAbsent  = time.Hour
	recheckMaxHashed  = 24 * time.Hour
	recheckIdleWakeup = 5 * time.Minute // new unavailable torrents are found at least this often
)

type recheckState struct {
	absent, hashed backoff.Backoff
	next           time.Time
}

// RecheckNow makes the daemon re-check every unavailable torrent at once
// (SIGHUP).
func (s *Service) RecheckNow() {
	select {
	case s.recheckWake <- 0:
	default:
	}
}

// recheckLoop re-checks unavailable torrents, each with its own backoff,
// at start, and at once for a torrent whose catalog row changed (id from
// the NOTIFY) or for all on RecheckNow. Real time: these waits are not
// part of any verify schedule.
func (s *Service) recheckLoop(ctx context.Context) error {
	per := map[int64]*recheckState{}
	for {
		wait := s.recheckDue(ctx, per)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case id := <-s.recheckWake:
			// A torrent's row changed: list again, so that a torrent just
			// made unavailable gets its schedule. Only RecheckNow (0)
			// makes every one due at once: our own writes notify too.
			for _, st := range per {
				if id == 0 {
					st.next = time.Time{}
				}
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// recheckDue re-checks the unavailable torrents whose time has come and
// returns how long to wait for the next one.
func (s *Service) recheckDue(ctx context.Context, per map[int64]*recheckState) time.Duration {
	e := s.e
	// Only the unavailable ones: the loop lists again at every change
	// notified, and a node may run 100,000 torrents.
	ts, err := e.db.Torrents(ctx, catalog.TorrentFilter{Runnable: true, Unavailable: true})
	if err != nil {
		if ctx.Err() == nil {
			e.log.Debug().Err(err).Msg("verify: list torrents to re-check") // the catalog's outage is reported elsewhere
		}
		return recheckMin
	}
	wait := recheckIdleWakeup
	seen := map[int64]bool{}
	for _, t := range ts {
		if t.Availability != catalog.AvailabilityUnavailable || t.AvailabilityCause == catalog.CauseBadMetadata {
			continue
		}
		seen[t.ID] = true
		st := per[t.ID]
		if st == nil {
			st = &recheckState{absent: backoff.Backoff{Min: recheckMin, Max: recheckMaxAbsent},
				hashed: backoff.Backoff{Min: recheckMin, Max: recheckMaxHashed}}
			per[t.ID] = st
			// Just marked (or the daemon just started): one short wait, so
			// that a scrub's verdict is not hashed again at once.
			st.next = time.Now().Add(st.absent.Next())
		}
		if now := time.Now(); now.Before(st.next) {
			wait = min(wait, st.next.Sub(now))
			continue
		}
		res, err := e.recheck(ctx, t.ID)
		if ctx.Err() != nil {
			return 0
		}
		if err != nil {
			e.log.Warn().Err(err).Int64("torrent_id", t.ID).Msg("verify: re-check unavailable torrent")
		}
		d := st.absent.Next()
		if res.Checked > 0 {
			d = st.hashed.Next()
		}
		st.next = time.Now().Add(d)
		wait = min(wait, d)
	}
	for id := range per {
		if !seen[id] {
			delete(per, id)
		}
	}
	return wait
}
