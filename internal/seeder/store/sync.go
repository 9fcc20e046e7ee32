package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/archivd/archivd/internal/datadir"
)

// syncAll makes the data of every complete piece in snap durable: each
// new directory entry and each touched file is fsync'ed once. Pieces whose
// data could not be made durable are taken out of snap (they are not
// recorded complete). The error reports a directory that could not be
// synced: then no completion is recorded, all stay pending. A directory
// that is no longer there (moved away or deleted since a file was made
// in it) has nothing left to sync: it is skipped, and the pieces whose
// files were in it are not recorded (the file at their path is not the
// one written: sameFile below). Kept, it failed every commit of every
// torrent for ever.
func (s *Store) syncAll(snap map[int64]*pendingTorrent, dirs map[string]struct{}) error {
	for d := range dirs {
		err := syncDir(d)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			s.log.Warn().Err(err).Msg("a directory with new files is gone before its entries were synced: its pieces are not recorded complete")
			continue
		}
		if err != nil {
			s.log.Error().Err(err).Msg("sync directory before recording pieces complete")
			s.dirDirty(keys(dirs))
			dropComplete(snap)
			return fmt.Errorf("seeder store: commit: %w", err)
		}
	}
	failed := s.syncFiles(touchedFiles(snap))
	for _, pt := range snap {
		for p, complete := range pt.pieces {
			if !complete {
				continue
			}
			if err := s.sameGen(pt.ts, p); err != nil {
				s.lose(pt, p, err)
				continue
			}
			for _, fe := range pt.ts.pieceFiles(p) {
				if err := failed[fileKey{pt.ts, fe}]; err != nil {
					s.lose(pt, p, err)
					break
				}
			}
		}
	}
	return nil
}

type fileKey struct {
	ts *torrentState
	fe *fileEntry
}

// touchedFiles lists the files the complete pieces of snap touch, once each.
func touchedFiles(snap map[int64]*pendingTorrent) []fileKey {
	seen := map[fileKey]bool{}
	var out []fileKey
	for _, pt := range snap {
		for p, complete := range pt.pieces {
			if !complete {
				continue
			}
			for _, fe := range pt.ts.pieceFiles(p) {
				if k := (fileKey{pt.ts, fe}); !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// syncParallel bounds concurrent fdatasyncs: a disk array completes them
// faster in parallel, a single disk loses nothing.
const syncParallel = 8

// syncFiles fdatasyncs files, several at a time, and returns the failures.
func (s *Store) syncFiles(files []fileKey) map[fileKey]error {
	errs := make([]error, len(files))
	sem := make(chan struct{}, syncParallel)
	var wg sync.WaitGroup
	for i, k := range files {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = s.syncFile(k.ts, k.fe)
		}()
	}
	wg.Wait()
	failed := map[fileKey]error{}
	for i, err := range errs {
		if err != nil {
			failed[files[i]] = err
		}
	}
	return failed
}

// sameGen checks that piece p's files are the ones the engine hashed it
// through: no descriptor of them was found stale since (hashedGen).
func (s *Store) sameGen(ts *torrentState, p int) error {
	s.mu.Lock()
	want, ok := ts.hashedGen[p]
	delete(ts.hashedGen, p)
	s.mu.Unlock()
	if ok && want != ts.genOf(p) {
		return fmt.Errorf("seeder store: piece %d of %s: %w", p, ts.name, errFileChanged)
	}
	return nil
}

// errFileChanged: a file was deleted, replaced or moved while its pieces
// were written or waited to be recorded.
var errFileChanged = errors.New("a file of the piece was deleted, replaced or moved since it was written")

// syncFile fdatasyncs one file. Linux reports a writeback error to every
// descriptor of the file that has not seen it, so a fresh descriptor
// (after the cached one was closed) is as good as the writer's. The
// descriptor must still be the file at the path: data written to a file
// deleted, replaced or moved away is not the torrent's data.
func (s *Store) syncFile(ts *torrentState, fe *fileEntry) error {
	h, _, err := s.files.get(ts, fe, false)
	if err != nil {
		return fmt.Errorf("seeder store: sync %s of %s: %w", fe.rel, ts.name, err)
	}
	defer s.files.release(h)
	if err := unix.Fdatasync(int(h.f.Fd())); err != nil {
		return fmt.Errorf("seeder store: sync %s of %s: %w", fe.rel, ts.name, err)
	}
	if err := atPath(ts, fe, h.f); err != nil {
		s.files.forget(ts, fe)
		return fmt.Errorf("seeder store: sync %s of %s: %w", fe.rel, ts.name, err)
	}
	if s.onSync != nil {
		s.onSync(filepath.Join(ts.dataDir, fe.rel))
	}
	return nil
}

// atPath checks that f is the file at fe's path (same device and inode),
// reached without following links.
func atPath(ts *torrentState, fe *fileEntry, f *os.File) error {
	same, err := datadir.SameFile(ts.dataDir, fe.rel, f)
	if err != nil {
		return fmt.Errorf("%w: %w", errFileChanged, err)
	}
	if !same {
		return errFileChanged
	}
	return nil
}

// lose gives up on recording piece p complete: its data may not be on
// disk. It reads back as unknown, so it is hashed before it is trusted.
// A piece handed back meanwhile (markNotComplete says "not complete" at
// once, and unqueues it only once this commit is over) stays known not
// complete: the engine fetches those, and never hashes an unknown piece
// of a torrent it holds, so it would never be repaired.
func (s *Store) lose(pt *pendingTorrent, p int, err error) {
	s.log.Error().Err(err).Int("piece", p).Str("torrent", pt.ts.hexHash()).Str("name", pt.ts.name).Msg("piece data not durable: not recording it complete")
	delete(pt.pieces, p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.pending[pt.ts.id].pieceMap()[p]; ok && cur {
		s.unqueueLocked(pt.ts.id, p)
		if c := pt.ts.completion(p); c.Ok && c.Complete {
			pt.ts.set(p, false, false)
		}
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
	return ts.filesOf(off, min(ts.pieceLen, ts.end-off))
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

// syncDir makes a directory's entries durable (new files and subdirs).
func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return &os.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return nil
}
