package seeder

import (
	"context"
	"sync"
	"time"

	"github.com/archivd/archivd/internal/backoff"
)

// A read for a peer that fails on data the catalog records complete (a
// file cut short, deleted or unreadable) is damage found between scrubs:
// the seeder queues a verify run of that torrent on this node at once
// (kind read_error, catalog.RequestReadCheck), which records findings,
// marks the bad pieces not complete, repairs them from the swarm and
// reports, as any run does. At most one such run per torrent is queued or
// running, and a torrent is asked for again at most once per
// Config.ReadCheckEvery. See docs/ARCHITECTURE.md, "Verification".

// readChecks collects torrents with a failed peer read; the store's
// callback must not block, so it only marks the torrent and wakes the loop.
type readChecks struct {
	mu      sync.Mutex
	pending map[int64]error // torrent id -> the first error seen
	wake    chan struct{}
}

func newReadChecks() *readChecks {
	return &readChecks{pending: map[int64]error{}, wake: make(chan struct{}, 1)}
}

func (r *readChecks) report(id int64, err error) {
	r.mu.Lock()
	if _, ok := r.pending[id]; !ok {
		r.pending[id] = err
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *readChecks) take() map[int64]error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending
	r.pending = map[int64]error{}
	return p
}

// readCheckLoop queues the read checks reported. A catalog error is
// retried with backoff; the loop stops with ctx.
func (s *Seeder) readCheckLoop(ctx context.Context) {
	asked := map[int64]time.Time{} // torrent id -> when a check was last asked for
	bo := backoff.Backoff{Min: time.Second, Max: time.Minute}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.readChecks.wake:
		}
		for id, why := range s.readChecks.take() {
			if at, ok := asked[id]; ok && time.Since(at) < s.cfg.ReadCheckEvery {
				continue
			}
			if err := s.queueReadCheck(ctx, id, why); err != nil {
				s.log.Warn().Err(err).Int64("torrent_id", id).Msg("read check: queue a verify run after a failed read (retrying)")
				s.readChecks.report(id, why)
				if backoff.Sleep(ctx, bo.Next()) != nil {
					return
				}
				continue
			}
			bo.Reset()
			asked[id] = time.Now()
		}
		for id, at := range asked {
			if time.Since(at) >= s.cfg.ReadCheckEvery {
				delete(asked, id)
			}
		}
	}
}

func (s *Seeder) queueReadCheck(ctx context.Context, id int64, why error) error {
	s.mu.Lock()
	e := s.running[id]
	s.mu.Unlock()
	if e == nil || e.fetching {
		return nil // not in the engine any more: nothing is served
	}
	ih := e.row.HexHash()
	run, queued, err := s.db.RequestReadCheck(ctx, ih, time.Now())
	if err != nil {
		return err
	}
	ev := s.log.Warn().Int64("torrent_id", id).Str("name", e.row.Name).AnErr("read_error", why).Int64("run", run)
	if queued {
		ev.Msgf("a read for a peer failed on data recorded complete: verify run %d of the torrent queued (see 'archivd report %d')", run, run)
	} else {
		ev.Msgf("a read for a peer failed on data recorded complete: verify run %d of the torrent is already queued or running", run)
	}
	return nil
}
