package seeder

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
)

// checkData refuses to add a torrent whose data is gone while the catalog
// records pieces complete: an unmounted disk or a deleted directory is not
// a reason to download terabytes again. Such a torrent is marked
// unavailable until the operator clears it. It reports whether the torrent
// was held back, or is a fresh download (no data, nothing recorded).
func (s *Seeder) checkData(ctx context.Context, p addPrepared) (held, fresh bool, err error) {
	cause, reason := dataGone(p)
	if cause == catalog.CauseNone {
		return false, false, nil
	}
	done, err := s.completedPieces(ctx, p)
	if err != nil {
		return false, false, err
	}
	if done == 0 {
		return false, true, nil // nothing recorded, nothing there: a fresh download
	}
	reason = fmt.Sprintf("%s while %d of %d pieces are recorded complete", reason, done, p.row.PieceCount)
	if err := s.db.SetAvailability(ctx, p.row.ID, catalog.AvailabilityOf{State: catalog.AvailabilityUnavailable, Cause: cause, Reason: reason}); err != nil {
		return false, false, err
	}
	if err := s.db.AddTorrentEvent(ctx, p.row.ID, "unavailable", reason, map[string]any{"data_dir": p.row.DataDir}); err != nil {
		return false, false, err
	}
	s.mu.Lock()
	s.unavailable++
	s.mu.Unlock()
	s.log.Error().Str("torrent", p.row.HexHash()).Str("name", p.row.Name).Str("reason", reason).
		Msg("torrent data missing: marked unavailable, not downloaded again; re-checked with backoff and available again once its data hashes good (or run `archivd resume " + p.row.Name + "` once the data is back)")
	return true, false, nil
}

// dataGone returns why the torrent's data looks absent (CauseNone if it
// does not).
func dataGone(p addPrepared) (catalog.AvailabilityCause, string) {
	if p.presences != nil {
		return p.presences.Presence(p.row.DataDir, datadir.FilePaths(p.files))
	}
	return datadir.Presence(p.row.DataDir, datadir.FilePaths(p.files))
}

// completedPieces counts the torrent's pieces recorded complete, from the
// states loaded with it if there are.
func (s *Seeder) completedPieces(ctx context.Context, p addPrepared) (int, error) {
	ps, ok := p.loaded.States(p.row.ID)
	if !ok {
		return s.db.CompletedPieces(ctx, p.row.ID, p.row.PieceCount)
	}
	done := 0
	for i := range ps.N {
		if ps.Known.Get(i) && ps.Complete.Get(i) {
			done++
		}
	}
	return done, nil
}

// dataDirGone takes a running torrent whose data directory disappeared
// (a write, or a read for a peer, found it missing: moved away or
// unmounted) out of the engine, once per entry:
// unavailable with cause data_missing, like checkData at an add, so the
// re-check loop brings it back once its data is there and hashes good.
// Writes refused meanwhile are fetched again after.
func (s *Seeder) dataDirGone(ctx context.Context, id int64, err error) {
	if e := s.entry(id); e != nil && !e.dirGone.Swap(true) {
		s.markDataDirGone(ctx, e.row, err)
	}
}

// markDataDirGone records row's data directory missing (a write, or the
// engine's add creating its empty files, found it so) and asks for the
// torrent to be reconciled: unavailable, it leaves the engine. A catalog
// error is logged: the next write or add reports it again.
func (s *Seeder) markDataDirGone(ctx context.Context, row catalog.Torrent, err error) {
	reason := fmt.Sprintf("data directory %s disappeared while the torrent was in the engine (moved away or unmounted?); not created again", row.DataDir)
	changed, cerr := s.db.ChangeAvailability(ctx, row.ID, catalog.AvailabilityOf{State: catalog.AvailabilityUnavailable, Cause: catalog.CauseDataMissing, Reason: reason})
	if cerr != nil {
		s.log.Warn().Err(cerr).Int64("torrent_id", row.ID).Msg("record a missing data directory")
		return
	}
	if changed {
		_ = s.db.AddTorrentEvent(ctx, row.ID, "unavailable", reason, map[string]any{"data_dir": row.DataDir})
		s.log.Error().Err(err).Str("torrent", row.HexHash()).Str("name", row.Name).Str("reason", reason).
			Msg("torrent data missing: marked unavailable, not downloaded again; re-checked with backoff and available again once its data hashes good (or run `archivd resume " + row.Name + "` once the data is back)")
	}
	s.requeue([]int64{row.ID})
}
