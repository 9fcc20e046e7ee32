package seeder

import (
	"context"
	"sort"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/logging"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// Adoption: pieces that must be hashed before they are trusted (data found
// on disk with nothing recorded, and after an unclean stop the pieces
// recorded not complete whose data may have been written before the kill)
// are hashed by archivd's scrubber, which reads files sequentially and
// hashes on every core, rather than piece by piece by the engine. The
// results go to the store as recorded states and to the engine as
// completions; until then the engine neither hashes nor fetches them.

// startAdoption hashes pieces of e in a goroutine of its own (owned by
// the seeder: Run waits for it; drop cancels it), then lets the engine
// fetch what was bad. row is e's catalog row with its metainfo (the
// entry keeps none).
func (s *Seeder) startAdoption(ctx context.Context, e *entry, row catalog.Torrent, files []catalog.File, pieces []int) {
	actx, cancel := context.WithCancel(ctx)
	e.cancelAdopt, e.adoptDone = cancel, make(chan struct{})
	s.adoptions.Add(1)
	go func() {
		defer s.adoptions.Done()
		defer close(e.adoptDone)
		defer cancel()
		s.adopt(actx, e, row, files, pieces)
	}()
}

func (s *Seeder) adopt(ctx context.Context, e *entry, row catalog.Torrent, files []catalog.File, pieces []int) {
	select {
	case s.adoptSem <- struct{}{}:
		defer func() { <-s.adoptSem }()
	case <-ctx.Done():
		s.store.Abandon(e.row.InfoHash)
		return
	}
	start := time.Now()
	good, bad, err := s.hashAdopted(ctx, e, row, files, pieces)
	if ctx.Err() != nil {
		s.store.Abandon(e.row.InfoHash) // the torrent is being dropped
		return
	}
	if err != nil {
		// The engine hashes whatever was not done (its own, slower way).
		s.log.Warn().Err(err).Str("torrent", e.row.HexHash()).Msg("adoption hashing failed: the engine hashes the rest")
		s.store.Abandon(e.row.InfoHash)
		for _, p := range pieces {
			e.t.Piece(p).UpdateCompletion()
		}
	}
	// Recorded now, not at the end of the commit interval: a first start
	// on existing data is done when the catalog says so.
	s.store.CommitSoon()
	e.t.DownloadAll()
	s.log.Info().Str("torrent", e.row.HexHash()).Str("name", e.row.Name).Int("good", good).Int("bad", bad).
		Int64("took_ms", time.Since(start).Milliseconds()).Int64("up_ms", logging.UpMs()).Msg("data on disk hashed and adopted")
}

// hashAdopted scrubs the runs of consecutive pieces and records each
// piece's result as it comes.
func (s *Seeder) hashAdopted(ctx context.Context, e *entry, row catalog.Torrent, files []catalog.File, pieces []int) (good, bad int, err error) {
	tg, err := scrub.FromTorrent(row, files)
	if err != nil {
		return 0, 0, err
	}
	onPiece := func(r scrub.Result) {
		ok := r.Kind == scrub.OK
		if err := s.store.Adopted(ctx, e.row.InfoHash, r.Piece, ok); err != nil {
			s.log.Warn().Err(err).Int("piece", r.Piece).Str("torrent", e.row.HexHash()).Msg("record adopted piece")
		}
		e.t.Piece(r.Piece).UpdateCompletion()
		if ok {
			good++
			s.adoptedPieces.Add(1)
		} else {
			bad++
		}
	}
	for _, run := range runsOf(pieces) {
		// Mapped page cache, as the verify service hashes (no pread copy).
		sum, err := scrub.Scrub(ctx, tg, run[0], run[1], scrub.Options{OnPiece: onPiece, Map: true})
		s.adoptedBytes.Add(sum.BytesHashed)
		if err != nil {
			return good, bad, err
		}
	}
	return good, bad, nil
}

// adoptNotComplete tells whether pieces recorded not complete are hashed
// too (where their files hold data): after an unclean stop, pieces written
// and verified whose completion was not committed yet are recorded not
// complete, and hashing them beats fetching them again.
func (s *Seeder) adoptNotComplete() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.lastClean
}

// runsOf groups pieces into runs of consecutive pieces: [first, count].
func runsOf(pieces []int) [][2]int {
	ps := append([]int{}, pieces...)
	sort.Ints(ps)
	var out [][2]int
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1][0]+out[n-1][1] == p {
			out[n-1][1]++
			continue
		}
		out = append(out, [2]int{p, 1})
	}
	return out
}
