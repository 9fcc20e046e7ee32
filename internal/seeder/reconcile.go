package seeder

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/logging"
	"github.com/archivd/archivd/internal/seeder/store"
	"golang.org/x/sync/errgroup"
)

// addWorkers is how many torrents are prepared (missing-data check and
// piece state load, one query each) at once when many are added.
const addWorkers = 8

// requestReconcile asks the reconcile loop to look at one torrent again.
func (s *Seeder) requestReconcile(id int64) {
	s.reqMu.Lock()
	s.reqIDs[id] = struct{}{}
	s.reqMu.Unlock()
	s.kick()
}

// requestFull asks the reconcile loop for a full reconcile.
func (s *Seeder) requestFull() {
	s.reqMu.Lock()
	s.reqFull = true
	s.reqMu.Unlock()
	s.kick()
}

func (s *Seeder) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Seeder) takeRequests() (ids []int64, full bool) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	for id := range s.reqIDs {
		ids = append(ids, id)
	}
	clear(s.reqIDs)
	full, s.reqFull = s.reqFull, false
	return ids, full
}

// reconcileLoop is the only goroutine that adds and drops torrents, so
// the running set never sees two changes of one torrent at once. While
// the catalog is away it backs off (the LISTEN loop asks for a full
// reconcile once it is back, and the ticker is the backstop), logging
// the outage once when it starts and once when it ends.
func (s *Seeder) reconcileLoop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.ReconcileInterval)
	defer tick.Stop()
	beat := s.cfg.Heartbeats.Register("seeder reconcile", loopWithin)
	r := &backoff.Retry{Backoff: backoff.Backoff{Min: time.Second, Max: 30 * time.Second}, Log: s.log,
		What: "seeder: reconcile the engine with the catalog"}
	s.kick() // the first full reconcile, requested by New
	for {
		beat.Wait()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.requestFull()
			continue
		case req := <-s.releases:
			beat.Beat()
			s.release(ctx, req)
			continue
		case <-s.wake:
		}
		beat.Beat()
		ids, full := s.takeRequests()
		var err error
		if full {
			s.fullBegun.Add(1)
			err = s.reconcileAll(ctx)
			s.fullEnded.Add(1)
			s.startedOnce.Do(func() { close(s.started) })
		} else {
			err = s.reconcileIDs(ctx, ids)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if full {
				s.requestFull() // not lost: retried after the backoff
			} else {
				s.requeue(ids)
			}
			beat.Wait()
			if backoff.Sleep(ctx, r.Fail(err)) != nil {
				return
			}
		default:
			r.OK()
		}
	}
}

// requeue asks again for torrents whose reconcile failed.
func (s *Seeder) requeue(ids []int64) {
	s.reqMu.Lock()
	for _, id := range ids {
		s.reqIDs[id] = struct{}{}
	}
	s.reqMu.Unlock()
	s.kick()
}

// reconcileAll makes the engine run exactly the runnable, available
// torrents of the catalog.
func (s *Seeder) reconcileAll(ctx context.Context) error {
	start := time.Now()
	if _, err := s.db.ClaimUnowned(ctx); err != nil {
		return err
	}
	rows, err := s.db.Torrents(ctx, catalog.TorrentFilter{Runnable: true})
	if err != nil {
		return err
	}
	listed := time.Now()
	// Pointers into rows: at 100,000 torrents every copy of the rows is
	// 50 MB of garbage for the collector.
	want := make(map[int64]*catalog.Torrent, len(rows))
	unavailable := 0
	for i := range rows {
		if !rows[i].Availability.Runnable() {
			unavailable++
			continue
		}
		want[rows[i].ID] = &rows[i]
	}
	s.mu.Lock()
	s.unavailable = unavailable
	var gone []*entry
	for id, e := range s.running {
		if _, ok := want[id]; !ok {
			gone = append(gone, e)
		}
	}
	s.mu.Unlock()
	for _, e := range gone {
		s.drop(ctx, e, "no longer runnable in the catalog")
	}
	applying := time.Now()
	added, err := s.apply(ctx, want)
	s.fullOK.Store(err == nil)
	s.log.Info().Int("runnable", len(want)).Int("added", added).Int("dropped", len(gone)).
		Int("unavailable", unavailable).Int64("took_ms", time.Since(start).Milliseconds()).
		Int64("list_ms", listed.Sub(start).Milliseconds()).Int64("add_ms", time.Since(applying).Milliseconds()).
		Int64("up_ms", logging.UpMs()).Msg("full reconcile")
	return err
}

// reconcileIDs re-reads the named torrents only (a NOTIFY).
func (s *Seeder) reconcileIDs(ctx context.Context, ids []int64) error {
	want := map[int64]*catalog.Torrent{}
	for _, id := range ids {
		r, err := s.db.TorrentByID(ctx, id)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			// Not lost: the full reconcile after the catalog is back covers it.
			return err
		}
		if err == nil && runnable(r) {
			want[id] = &r
			continue
		}
		s.mu.Lock()
		e := s.running[id]
		s.mu.Unlock()
		if e != nil {
			s.drop(ctx, e, "paused, removed, unavailable or no longer placed on this node in the catalog")
		}
	}
	_, err := s.apply(ctx, want)
	return err
}

func runnable(t catalog.Torrent) bool {
	return t.Local && !t.Removing && t.DataDir != "" && t.State == catalog.TorrentActive && t.CollectionState == catalog.TorrentActive && t.Availability.Runnable()
}

// apply adds the wanted torrents that are not running and replaces
// running ones whose definition changed.
func (s *Seeder) apply(ctx context.Context, want map[int64]*catalog.Torrent) (int, error) {
	var todo []*catalog.Torrent
	for id, r := range want {
		s.mu.Lock()
		e := s.running[id]
		s.mu.Unlock()
		switch {
		case e == nil && s.largeQueuedOrAdding(id):
			// being added by the large-add loop
		case e == nil:
			todo = append(todo, r)
		case changed(e, r):
			if e.fetching {
				s.handOverPeers(ctx, e)
			}
			s.drop(ctx, e, "changed in the catalog")
			todo = append(todo, r)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	return s.addMany(ctx, todo)
}

// changed reports a catalog change that needs the torrent re-added: its
// metadata arrived, or its data moved, trackers or web seeds changed.
func changed(e *entry, r *catalog.Torrent) bool {
	if e.fetching {
		return r.HasMetainfo()
	}
	return e.row.DataDir != r.DataDir || !slices.Equal(e.row.Trackers, r.Trackers) || !slices.Equal(e.row.WebSeeds, r.WebSeeds)
}

// addMany adds torrents with a few queries for all of them (files, peers,
// repairs, piece states), spread over a few workers.
func (s *Seeder) addMany(ctx context.Context, rows []*catalog.Torrent) (int, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	// Four independent queries, at once: each is a scan of 100,000 rows
	// at a large start.
	var files map[int64][]catalog.File
	var peers map[int64][]catalog.Peer
	var repairing map[int64][]int
	var loaded *store.Loaded
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { files, err = s.db.FilesOf(gctx, ids); return err })
	g.Go(func() (err error) { peers, err = s.knownPeers(gctx, ids); return err })
	g.Go(func() (err error) { repairing, err = s.repairingPieces(gctx, ids); return err })
	g.Go(func() (err error) { loaded, err = s.store.LoadMany(gctx, pieceCounts(rows)); return err })
	if err := g.Wait(); err != nil {
		return 0, err
	}
	presences := &datadir.Presences{}
	defer presences.Close()
	work := make(chan addPrepared)
	var added sync.WaitGroup
	var mu sync.Mutex
	n := 0
	var firstErr error
	for range min(addWorkers, len(rows)) {
		added.Add(1)
		go func() {
			defer added.Done()
			for p := range work {
				ok, err := s.addOne(ctx, p)
				mu.Lock()
				if ok {
					n++
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range rows {
		p := addPrepared{row: *r, files: files[r.ID], peers: peers[r.ID], repairing: repairing[r.ID], loaded: loaded}
		if r.HasMetainfo() && r.PieceCount > largePieces && s.queueLarge(p) {
			continue // added off this loop (large.go), after presences closed
		}
		p.presences = presences
		work <- p
	}
	close(work)
	added.Wait()
	return n, firstErr
}

// pieceCounts maps the torrents whose metadata is known to their piece
// counts (store.LoadMany).
func pieceCounts(rows []*catalog.Torrent) map[int64]int {
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		if r.HasMetainfo() {
			out[r.ID] = r.PieceCount
		}
	}
	return out
}

// addOne adds one torrent. An error that concerns only this torrent
// (bad metainfo, storage) is logged and recorded, not returned: the others
// go on. Catalog errors are returned.
func (s *Seeder) addOne(ctx context.Context, p addPrepared) (bool, error) {
	var e *entry
	var err error
	if !p.row.HasMetainfo() {
		e, err = s.startFetch(ctx, p)
	} else {
		var held bool
		held, p.fresh, err = s.checkData(ctx, p)
		if err != nil {
			return false, err
		}
		if held {
			return false, nil
		}
		e, err = s.addWithInfo(ctx, p)
	}
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, errAbandoned) {
			return false, err
		}
		if errors.Is(err, datadir.ErrDataDirMissing) { // gone since checkData looked
			s.markDataDirGone(ctx, p.row, err)
			return false, nil
		}
		// Retried at every full reconcile (the cause may be fixed outside
		// the catalog), but logged and recorded only when the error changes.
		if s.noteAddError(p.row.ID, err.Error()) {
			s.log.Error().Err(err).Str("torrent", p.row.HexHash()).Msg("torrent not added")
			_ = s.db.AddTorrentEvent(ctx, p.row.ID, "seeder_add_failed", err.Error(), nil)
		}
		return false, nil
	}
	s.mu.Lock()
	s.running[p.row.ID] = e
	delete(s.addErrs, p.row.ID)
	s.mu.Unlock()
	if p.row.Availability == catalog.AvailabilityDegraded {
		// A write fault of an earlier run: this one writes afresh, and
		// marks it again if writing still fails.
		if _, err := s.db.ClearAvailability(ctx, p.row.ID, catalog.AvailabilityDegraded); err != nil {
			return true, err
		}
	}
	return true, nil
}

// noteAddError remembers the last add error of a torrent and reports
// whether it is new.
func (s *Seeder) noteAddError(id int64, msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addErrs[id] == msg {
		return false
	}
	s.addErrs[id] = msg
	return true
}

// handOverPeers records the peers a magnet's metadata fetch is connected
// to, so that the torrent re-added with its metadata dials them at once
// (peers such as transmission never connect out to us, and the tracker
// would only be asked again at its next interval).
func (s *Seeder) handOverPeers(ctx context.Context, e *entry) {
	peers := peersOf([]*entry{e})
	if len(peers) == 0 {
		return
	}
	if err := s.db.SavePeers(ctx, peers); err != nil {
		s.log.Warn().Err(err).Str("torrent", e.row.HexHash()).Msg("hand over the metadata fetch's peers")
	}
}
