package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// pendingTorrent holds the piece states of one torrent waiting for the
// catalog (latest state per piece wins).
type pendingTorrent struct {
	ts     *torrentState
	pieces map[int]bool
}

func (pt *pendingTorrent) pieceMap() map[int]bool {
	if pt == nil {
		return nil
	}
	return pt.pieces
}

// queueLocked records a piece state to commit; s.mu must be held.
func (s *Store) queueLocked(ts *torrentState, p int, complete bool) {
	pt := s.pending[ts.id]
	if pt == nil {
		pt = &pendingTorrent{ts: ts, pieces: map[int]bool{}}
		s.pending[ts.id] = pt
	}
	if _, ok := pt.pieces[p]; !ok {
		s.nPending++
	}
	pt.pieces[p] = complete
}

func (s *Store) unqueueLocked(id int64, p int) {
	pt := s.pending[id]
	if pt == nil {
		return
	}
	if _, ok := pt.pieces[p]; ok {
		delete(pt.pieces, p)
		s.nPending--
	}
	if len(pt.pieces) == 0 {
		delete(s.pending, id)
	}
}

func (s *Store) markComplete(ts *torrentState, p int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, queued := s.pending[ts.id].pieceMap()[p]
	if c := ts.completion(p); c.Ok && c.Complete && !queued {
		return nil // already durable in the catalog
	}
	if !queued && s.nPending >= s.maxPend {
		// Unknown, not complete: the engine serves it this session (it was
		// just verified), the next start hashes it instead of trusting it.
		ts.set(p, false, false)
		return fmt.Errorf("seeder store: mark piece %d of %s complete: %w (%d waiting)", p, ts.name, ErrPendingFull, s.nPending)
	}
	ts.set(p, true, true)
	s.queueLocked(ts, p, true)
	s.noteGenLocked(ts, p)
	if s.nPending >= 4096 && s.health.DBOK {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// noteGenLocked remembers the generation of piece p's files when its data
// is first written (or, for data found on disk, when it is marked
// complete); s.mu must be held. sameGen compares at commit.
func (s *Store) noteGenLocked(ts *torrentState, p int) {
	if ts.hashedGen == nil {
		ts.hashedGen = map[int]uint64{}
	}
	if _, ok := ts.hashedGen[p]; !ok {
		ts.hashedGen[p] = ts.genOf(p)
	}
}

// MarkNotComplete records pieces of a registered torrent as not complete,
// durably, before it returns (verification found them bad). Tell the
// engine afterwards (Piece.UpdateCompletion) so it fetches them again.
// When the catalog is unreachable the state is held in memory (the engine
// will neither serve nor rewrite the pieces) and an ErrNotDurable error
// is returned; it is committed when the catalog is back.
func (s *Store) MarkNotComplete(ctx context.Context, infohash [20]byte, pieces []int) error {
	ts := s.torrent(infohash)
	if ts == nil {
		return fmt.Errorf("seeder store: mark pieces of %x not complete: torrent not registered", infohash)
	}
	for _, p := range pieces {
		if p < 0 || p >= ts.n {
			return fmt.Errorf("seeder store: mark piece %d of %s not complete: the torrent has %d pieces", p, ts.name, ts.n)
		}
	}
	// The scrub may have found their files deleted, replaced or moved: the
	// pieces are rewritten through descriptors opened on the paths again.
	for _, p := range pieces {
		for _, fe := range ts.pieceFiles(p) {
			s.files.drop(ts, fe)
		}
	}
	return s.markNotComplete(ctx, ts, pieces, true)
}

// markNotComplete records pieces not complete. It writes the catalog
// before returning when always is set or when the catalog may record one
// of them complete (it must not while they are rewritten); otherwise the
// record joins the next group commit: a fresh download hashes every
// piece once and fails, and one transaction per piece would be slow.
func (s *Store) markNotComplete(ctx context.Context, ts *torrentState, pieces []int, always bool) error {
	s.mu.Lock()
	for _, p := range pieces {
		ts.set(p, true, false) // not served from now on
		delete(ts.hashedGen, p)
	}
	s.mu.Unlock()
	// Decide under commitMu: a commit in flight may be recording one of
	// these pieces complete right now.
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	critical := always
	for _, p := range pieces {
		critical = critical || ts.mayBeDBComplete(p)
	}
	s.mu.Lock()
	for _, p := range pieces {
		s.unqueueLocked(ts.id, p)
	}
	if !critical {
		for _, p := range pieces {
			s.queueLocked(ts, p, false)
		}
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	ups := make([]catalog.PieceUpdate, len(pieces))
	for i, p := range pieces {
		ups[i] = catalog.PieceUpdate{Piece: p, Complete: false}
	}
	err := s.store(ctx, map[int64][]catalog.PieceUpdate{ts.id: ups})
	s.setHealth(err == nil, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range pieces {
		if err == nil {
			ts.setDBComplete(p, false)
		} else if _, queued := s.pending[ts.id].pieceMap()[p]; !queued {
			s.queueLocked(ts, p, false)
		}
	}
	if err != nil {
		return fmt.Errorf("seeder store: mark %d pieces of %s not complete: %w: %v", len(pieces), ts.name, ErrNotDurable, err)
	}
	return nil
}

func (s *Store) store(ctx context.Context, ups map[int64][]catalog.PieceUpdate) error {
	if s.onStore != nil {
		s.onStore(ups)
	}
	// Counted before and after: states loaded while a write is in flight
	// are stale whether they saw it or not.
	s.writes.Add(1)
	defer s.writes.Add(1)
	return s.db.StorePieces(ctx, ups)
}

// syncContext bounds a synchronous catalog write made for the engine.
func (s *Store) syncContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// Flush commits everything pending when it is called (completions that
// arrive meanwhile may wait for the next group commit).
func (s *Store) Flush(ctx context.Context) error {
	return s.commit(ctx)
}

// CommitSoon has Run commit what is pending now rather than at the end of
// the interval (nothing happens while the catalog is away: Run's backoff
// decides then). The adoption of a torrent's data asks for it when it
// ends, so that the catalog records the torrent complete at once.
func (s *Store) CommitSoon() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// commit is one group commit: fsync every directory and file that the
// pending complete pieces touch, then record all pending states in one
// transaction.
func (s *Store) commit(ctx context.Context) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	snap, dirs := s.snapshot()
	if len(snap) == 0 {
		return nil
	}
	syncErr := s.syncAll(snap, dirs)
	ups := updatesOf(snap)
	if len(ups) == 0 {
		return syncErr
	}
	// From now on the catalog may say complete (even if the commit seems to
	// fail): these pieces must not be rewritten before a durable not-complete.
	for _, pt := range snap {
		for p, v := range pt.pieces {
			if v {
				pt.ts.setDBComplete(p, true)
			}
		}
	}
	err := s.store(ctx, ups)
	if errors.Is(err, catalog.ErrTorrentGone) {
		// A torrent was deleted from the catalog meanwhile: drop its states.
		if err = s.dropDeleted(ctx, snap); err == nil {
			err = s.store(ctx, updatesOf(snap))
		}
	}
	s.setHealth(err == nil, err)
	if err != nil {
		s.dirDirty(keys(dirs))
		return fmt.Errorf("seeder store: commit %d piece states: %w", s.Health().Pending, err)
	}
	s.committed(snap)
	return syncErr
}

// snapshot copies the pending states and takes the dirty directories.
func (s *Store) snapshot() (map[int64]*pendingTorrent, map[string]struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := make(map[int64]*pendingTorrent, len(s.pending))
	for id, pt := range s.pending {
		c := &pendingTorrent{ts: pt.ts, pieces: make(map[int]bool, len(pt.pieces))}
		for p, v := range pt.pieces {
			c.pieces[p] = v
		}
		snap[id] = c
	}
	dirs := s.dirtyDirs
	s.dirtyDirs = map[string]struct{}{}
	return snap, dirs
}

// committed removes what the catalog now holds from the pending states,
// unless a piece changed again meanwhile.
func (s *Store) committed(snap map[int64]*pendingTorrent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range snap {
		pt := s.pending[id]
		for p, v := range c.pieces {
			if cur, ok := pt.pieceMap()[p]; ok && cur == v {
				s.unqueueLocked(id, p)
				if !v {
					c.ts.setDBComplete(p, false)
				}
			}
		}
	}
}

func updatesOf(snap map[int64]*pendingTorrent) map[int64][]catalog.PieceUpdate {
	ups := make(map[int64][]catalog.PieceUpdate, len(snap))
	for id, pt := range snap {
		if len(pt.pieces) == 0 {
			continue
		}
		l := make([]catalog.PieceUpdate, 0, len(pt.pieces))
		for p, v := range pt.pieces {
			l = append(l, catalog.PieceUpdate{Piece: p, Complete: v})
		}
		sort.Slice(l, func(i, j int) bool { return l[i].Piece < l[j].Piece })
		ups[id] = l
	}
	return ups
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
