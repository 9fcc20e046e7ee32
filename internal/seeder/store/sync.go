package store

import (
	"context"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// syncAll makes the data of every complete piece in snap durable: each
// new directory entry and each touched file is fsync'ed once. Pieces whose
// data could not be made durable are taken out of snap (they are not
// recorded complete). The error reports a directory that could not be
// synced: then no completion is recorded, all stay pending.
func (s *Store) syncAll(snap map[int64]*pendingTorrent, dirs map[string]struct{}) error {
	for d := range dirs {
		if err := syncDir(d); err != nil {
			s.log.Error().Err(err).Msg("sync directory before recording pieces complete")
			s.dirDirty(keys(dirs))
			dropComplete(snap)
			return fmt.Errorf("seeder store: commit: %w", err)
		}
	}
	type fileKey struct {
		ts   *torrentState
		file int
	}
	failed := map[fileKey]error{}
	synced := map[fileKey]bool{}
	for _, pt := range snap {
		for p, complete := range pt.pieces {
			if !complete {
				continue
			}
			for _, fe := range pt.ts.pieceFiles(p) {
				k := fileKey{pt.ts, fe.index}
				if !synced[k] {
					synced[k] = true
					if err := s.syncFile(pt.ts, fe); err != nil {
						failed[k] = err
					}
				}
				if err := failed[k]; err != nil {
					s.lose(pt, p, err)
					break
				}
			}
		}
	}
	return nil
}

// syncFile fdatasyncs one file. Linux reports a writeback error to every
// descriptor of the file that has not seen it, so a fresh descriptor
// (after the cached one was closed) is as good as the writer's.
func (s *Store) syncFile(ts *torrentState, fe *fileEntry) error {
	h, _, err := s.files.get(ts, fe, false)
	if err != nil {
		return fmt.Errorf("seeder store: sync %s of %s: %w", fe.rel, ts.name, err)
	}
	defer s.files.release(h)
	if err := unix.Fdatasync(int(h.f.Fd())); err != nil {
		return fmt.Errorf("seeder store: sync %s of %s: %w", fe.rel, ts.name, err)
	}
	if s.onSync != nil {
		s.onSync(filepath.Join(ts.dataDir, fe.rel))
	}
	return nil
}

// lose gives up on recording piece p complete: its data may not be on
// disk. It reads back as unknown, so it is hashed before it is trusted.
func (s *Store) lose(pt *pendingTorrent, p int, err error) {
	s.log.Error().Err(err).Int("piece", p).Str("torrent", pt.ts.name).Msg("piece data not durable: not recording it complete")
	delete(pt.pieces, p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.pending[pt.ts.id].pieceMap()[p]; ok && cur {
		s.unqueueLocked(pt.ts.id, p)
		pt.ts.set(p, false, false)
	}
}

func dropComplete(snap map[int64]*pendingTorrent) {
	for _, pt := range snap {
		for p, c := range pt.pieces {
			if c {
				delete(pt.pieces, p)
			}
		}
	}
}

// pieceFiles returns the files piece p touches.
func (ts *torrentState) pieceFiles(p int) []*fileEntry {
	off := int64(p) * ts.pieceLen
	return ts.filesOf(off, min(ts.pieceLen, ts.total-off))
}

// dropDeleted forgets pending states of torrents no longer in the catalog.
func (s *Store) dropDeleted(ctx context.Context, snap map[int64]*pendingTorrent) error {
	ids := make([]int64, 0, len(snap))
	for id := range snap {
		ids = append(ids, id)
	}
	exist, err := s.db.ExistingTorrents(ctx, ids)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if exist[id] {
			continue
		}
		s.log.Warn().Int64("torrent_id", id).Msg("torrent deleted from the catalog: dropping its pending piece states")
		delete(snap, id)
		if pt := s.pending[id]; pt != nil {
			s.nPending -= len(pt.pieces)
			delete(s.pending, id)
		}
	}
	return nil
}
