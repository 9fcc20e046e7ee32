package seeder

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/logging"
)

// stateInterval is how often engine states are compared with what the
// catalog was told; only changes are written (one statement).
const stateInterval = time.Second

// engineState is what e does in the engine right now.
func engineState(e *entry) catalog.EngineState {
	switch {
	case e.fetching || e.t.Info() == nil:
		return catalog.EngineFetchingMetadata
	case e.adopting():
		return catalog.EngineChecking
	case e.t.Complete().Bool():
		return catalog.EngineSeeding
	default:
		return catalog.EngineDownloading
	}
}

// adopting: the scrubber is hashing the torrent's data on disk.
func (e *entry) adopting() bool {
	if e.adoptDone == nil {
		return false
	}
	select {
	case <-e.adoptDone:
		return false
	default:
		return true
	}
}

// publishStates writes the engine states that changed since the last
// call to the catalog (where `archivd list --json` and the HTTP API read
// them) and logs once each time every torrent has come to seed. Only the
// stats loop calls it: published and allSeeding are its own.
func (s *Seeder) publishStates(ctx context.Context) {
	es := s.entries()
	now := make(map[int64]catalog.EngineState, len(es))
	seeding := 0
	for _, e := range es {
		st := engineState(e)
		now[e.row.ID] = st
		if st == catalog.EngineSeeding {
			seeding++
		}
	}
	changed := map[int64]catalog.EngineState{}
	for id, st := range now {
		if s.published[id] != st {
			changed[id] = st
		}
	}
	for id := range s.published {
		if _, ok := now[id]; !ok {
			changed[id] = ""
		}
	}
	if err := s.db.SetEngineStates(ctx, s.cfg.NodeID, changed); err != nil {
		if ctx.Err() == nil && !s.statesFailing {
			s.log.Warn().Err(err).Msg("engine states not recorded in the catalog (retried every second)")
		}
		s.statesFailing = true
		return
	}
	s.statesFailing = false
	s.published = now
	// Only after a full reconcile that added every runnable torrent it
	// found (before it, the engine holds only some of the catalog's
	// torrents; a failed one closes started all the same), and not while
	// large torrents wait to be added off the reconcile loop.
	all := s.startedDone() && s.fullOK.Load() && !s.largePending() && len(es) > 0 && seeding == len(es)
	if all && !s.allSeeding {
		s.log.Info().Int("torrents", seeding).Int64("since_start_ms", time.Since(s.runStart).Milliseconds()).Int64("up_ms", logging.UpMs()).Msg("every torrent is seeding")
	}
	s.allSeeding = all
}

// startedDone reports whether the first full reconcile has run.
func (s *Seeder) startedDone() bool {
	select {
	case <-s.started:
		return true
	default:
		return false
	}
}
