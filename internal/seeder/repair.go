package seeder

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
)

// MarkBad hands pieces that verification found bad to the engine: they
// are recorded not complete durably first, then the engine forgets them
// and fetches them again (every kept torrent downloads all its pieces).
// For a torrent not in the engine only the durable record is made.
func (s *Seeder) MarkBad(ctx context.Context, torrentID int64, pieces []int) error {
	s.mu.Lock()
	e := s.running[torrentID]
	s.mu.Unlock()
	if e == nil || e.fetching {
		ups := make([]catalog.PieceUpdate, len(pieces))
		for i, p := range pieces {
			ups[i] = catalog.PieceUpdate{Piece: p}
		}
		if err := s.db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{torrentID: ups}); err != nil {
			return fmt.Errorf("seeder: mark %d pieces of torrent %d bad: %w", len(pieces), torrentID, err)
		}
		return nil
	}
	n := e.t.NumPieces()
	for _, p := range pieces {
		if p < 0 || p >= n {
			return fmt.Errorf("seeder: mark piece %d of torrent %d bad: it has %d pieces", p, torrentID, n)
		}
	}
	// Watched before the engine may fetch anything: RepairSource must name
	// every deliverer.
	s.sources.watch(e.row.ID, e.row.InfoHash, pieces, true)
	if err := s.store.MarkNotComplete(ctx, e.row.InfoHash, pieces); err != nil {
		return fmt.Errorf("seeder: mark %d pieces of torrent %d bad: %w", len(pieces), torrentID, err)
	}
	for _, p := range pieces {
		e.t.Piece(p).UpdateCompletion()
	}
	// A complete torrent may have parted from every peer: dial the ones it
	// knew again, so that the pieces have a source.
	known := s.peerMem.of(e.row.ID, e.row.InfoHash)
	if fromDB, err := s.knownPeers(ctx, []int64{e.row.ID}); err == nil {
		known = append(fromDB[e.row.ID], known...)
	}
	addPeers(e.t, known)
	return nil
}

// Recheck makes the engine hash pieces again that verification read good
// although they were not recorded complete (put right by hand, or never
// recorded): a good hash makes the store record them complete, durably,
// through its group commit, and the engine serves them again. It reports
// false for a torrent not in the engine (the caller records the pieces).
func (s *Seeder) Recheck(ctx context.Context, torrentID int64, pieces []int) (bool, error) {
	s.mu.Lock()
	e := s.running[torrentID]
	s.mu.Unlock()
	if e == nil || e.fetching {
		return false, nil
	}
	n := e.t.NumPieces()
	for _, p := range pieces {
		if p < 0 || p >= n {
			return true, fmt.Errorf("seeder: re-check piece %d of torrent %d: it has %d pieces", p, torrentID, n)
		}
		if err := e.t.Piece(p).VerifyDataContext(ctx); err != nil {
			return true, fmt.Errorf("seeder: re-check piece %d of torrent %d: %w", p, torrentID, err)
		}
	}
	return true, nil
}
