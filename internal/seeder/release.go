package seeder

import (
	"context"
	"errors"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
)

// releaseReq asks the reconcile loop whether torrent id is out of the
// engine, dropping it first if it runs and is no longer runnable.
type releaseReq struct {
	id    int64
	reply chan releaseReply
}

type releaseReply struct {
	out bool
	err error
}

// Release makes sure torrent id is out of this node's engine before its
// replica is deleted (its files with it): it asks the reconcile loop, the
// only goroutine that adds and drops torrents, to drop it if it runs and
// the catalog no longer has it runnable (a replica marked for removal). It
// reports true once the torrent is out of the engine (nothing of it is
// written any more: its piece states are flushed), false while the catalog
// still has it runnable or the large-add loop still holds it (asked again
// at the next pass). A torrent marked for removal is never added again,
// so once out it stays out.
func (s *Seeder) Release(ctx context.Context, id int64) (bool, error) {
	req := releaseReq{id: id, reply: make(chan releaseReply, 1)}
	select {
	case s.releases <- req:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r.out, r.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// release serves one Release on the reconcile loop.
func (s *Seeder) release(ctx context.Context, req releaseReq) {
	out, err := func() (bool, error) {
		r, err := s.db.TorrentByID(ctx, req.id)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return false, fmt.Errorf("seeder: release torrent %d: %w", req.id, err)
		}
		if err == nil && runnable(r) {
			return false, nil
		}
		s.mu.Lock()
		e := s.running[req.id]
		s.mu.Unlock()
		if e != nil {
			s.drop(ctx, e, "replica marked for removal in the catalog")
		}
		return !s.largeQueuedOrAdding(req.id), nil
	}()
	req.reply <- releaseReply{out, err}
}
