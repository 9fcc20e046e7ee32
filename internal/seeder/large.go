package seeder

import (
	"context"
	"errors"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// largePieces: a torrent with more pieces is added to the engine off the
// reconcile loop. The engine's SetInfoBytes holds the client lock for
// work linear in the piece count (about 80 s for 5 million pieces on a
// loaded 2-core machine: request order, initial completion), which would
// hold back the first reconcile (READY), every other add and drop, and a
// SIGTERM.
const largePieces = 1 << 18

// engineCloseWait bounds how long a stop waits for the engine to close;
// only a large add in flight (which cannot be cancelled inside the
// engine) makes it wait longer. Piece states are committed and the stop
// recorded all the same: the engine writes only pieces not recorded
// complete, and a completion it reports after the final commit is simply
// not recorded (the piece is fetched or hashed again).
const engineCloseWait = 3 * time.Second

// queueLarge hands a large torrent to the large-add loop; false when the
// queue is full (the next full reconcile offers it again).
func (s *Seeder) queueLarge(p addPrepared) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.largeQueued[p.row.ID] {
		return true
	}
	select {
	case s.largeQ <- p:
		s.largeQueued[p.row.ID] = true
		return true
	default:
		return false
	}
}

// largeQueuedOrAdding reports whether a torrent waits in (or is in) the
// large-add loop: the reconcile leaves it alone meanwhile.
func (s *Seeder) largeQueuedOrAdding(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.largeQueued[id]
}

// largePending: large torrents are queued or being added.
func (s *Seeder) largePending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.largeQueued) > 0
}

// largeLoop adds large torrents one at a time. While an add runs, the
// engine probe does not take the engine's lock (it would wait for the
// add) and counts the engine alive.
func (s *Seeder) largeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-s.largeQ:
			s.addLarge(ctx, p)
		}
	}
}

// addLarge adds one large torrent unless it stopped being runnable while
// it waited in the queue. The catalog is read again at each point where
// the add can still be given up: before the engine takes the torrent in,
// and before its pieces are prioritised (both take the engine's lock for
// seconds, minutes under load, and cannot be cancelled); a torrent paused
// or removed meanwhile is abandoned there. One paused during the last
// step is dropped as soon as the add returns: a pause (or removal) finds
// nothing to drop while the torrent is being added. When the catalog does
// not answer, the torrent is added and kept (the full reconcile after the
// outage covers it). A torrent given up is offered to the reconcile loop
// again once it has left this loop: a resume that came meanwhile found it
// still being added and left it alone.
func (s *Seeder) addLarge(ctx context.Context, p addPrepared) {
	gaveUp := false
	defer func() {
		s.mu.Lock()
		delete(s.largeQueued, p.row.ID)
		s.mu.Unlock()
		if gaveUp {
			s.requestReconcile(p.row.ID)
		}
	}()
	log := s.log.With().Str("torrent", p.row.HexHash()).Int64("torrent_id", p.row.ID).Logger()
	if !s.stillRunnable(ctx, p.row.ID) {
		gaveUp = true
		log.Info().Msg("large torrent paused, removed or unavailable while queued: not added")
		return
	}
	start := time.Now()
	p.wanted = func() bool { return s.stillRunnable(ctx, p.row.ID) }
	s.largeAdding.Store(true)
	s.engineBeat.Wait() // see engineProbe
	ok, err := s.addOne(ctx, p)
	s.largeAdding.Store(false)
	switch {
	case errors.Is(err, errAbandoned):
		gaveUp = true
		s.largeAbandoned.Add(1)
		log.Info().Int64("after_ms", time.Since(start).Milliseconds()).
			Msg("large torrent paused, removed or unavailable during its add: add given up, not in the engine")
		return
	case err != nil && ctx.Err() == nil:
		log.Warn().Err(err).Msg("large torrent not added: retried at the next full reconcile")
	}
	if !ok {
		return
	}
	log.Info().Str("name", p.row.Name).Int("pieces", p.row.PieceCount).
		Int64("took_ms", time.Since(start).Milliseconds()).Msg("large torrent added to the engine")
	if s.stillRunnable(ctx, p.row.ID) {
		return
	}
	s.mu.Lock()
	e := s.running[p.row.ID]
	s.mu.Unlock()
	if e != nil {
		gaveUp = true
		s.drop(ctx, e, "paused, removed or unavailable in the catalog during its add")
	}
}

// stillRunnable reads the torrent's state again; true when the catalog
// says it should run or cannot say.
func (s *Seeder) stillRunnable(ctx context.Context, id int64) bool {
	r, err := s.db.TorrentByID(ctx, id)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		return false
	case err != nil:
		return true
	}
	return runnable(r)
}

// LargeAddsAbandoned counts the large adds given up because the torrent
// stopped being runnable before the engine had fully taken it in.
func (s *Seeder) LargeAddsAbandoned() int64 { return s.largeAbandoned.Load() }

// LargeAddsPending counts the large torrents queued for, or being added
// by, the large-add loop.
func (s *Seeder) LargeAddsPending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.largeQueued)
}

// closeEngine closes the engine, waiting at most engineCloseWait; it
// reports whether the engine closed. Safe to call more than once: after a
// wait that ran out it does not wait again.
func (s *Seeder) closeEngine() bool {
	s.closeStart.Do(func() {
		go func() { s.client.Close(); close(s.closed) }()
	})
	if s.closeGaveUp.Load() {
		return false
	}
	select {
	case <-s.closed:
		return true
	case <-time.After(engineCloseWait):
		s.closeGaveUp.Store(true)
		s.log.Warn().Msg("engine busy (adding a large torrent): stopping without waiting for it")
		return false
	}
}
