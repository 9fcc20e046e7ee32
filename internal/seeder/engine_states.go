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
	case e.fetching || !e.hasInfo():
		return catalog.EngineFetchingMetadata
	case e.adopting():
		return catalog.EngineChecking
	case e.t.Complete().Bool():
		return catalog.EngineSeeding
	default:
		return catalog.EngineDownloading
	}
}

// hasInfo: the engine has the torrent's info (once it has, it keeps it:
// remembered, as asking takes a lock of each torrent every second).
func (e *entry) hasInfo() bool {
	if e.infoSeen.Load() {
		return true
	}
	if e.t.Info() == nil {
		return false
	}
	e.infoSeen.Store(true)
	return true
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
//
// It runs every second over every torrent, so it compares in place: no
// map of all the states is built per call (at 100,000 torrents that and
// its garbage were a tenth of a core on an idle node); only the torrents
// whose state changed, or that left the engine, are collected.
func (s *Seeder) publishStates(ctx context.Context) {
	es := s.entries()
	if s.published == nil {
		s.published = make(map[int64]catalog.EngineState, len(es))
	}
	changed := map[int64]catalog.EngineState{}
	seeding, known := 0, 0
	for _, e := range es {
		st := engineState(e)
		if st == catalog.EngineSeeding {
			seeding++
		}
		if was, ok := s.published[e.row.ID]; ok {
			known++
			if was == st {
				continue
			}
		}
		changed[e.row.ID] = st
	}
	if known < len(s.published) { // some left the engine
		live := make(map[int64]bool, len(es))
		for _, e := range es {
			live[e.row.ID] = true
		}
		for id := range s.published {
			if !live[id] {
				changed[id] = ""
			}
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
	for id, st := range changed {
		if st == "" {
			delete(s.published, id)
		} else {
			s.published[id] = st
		}
	}
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
