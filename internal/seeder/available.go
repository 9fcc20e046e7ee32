package seeder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkData refuses to add a torrent whose data is gone while the catalog
// records pieces complete: an unmounted disk or a deleted directory is not
// a reason to download terabytes again. Such a torrent is marked
// unavailable until the operator clears it. It reports whether the torrent
// was held back, or is a fresh download (no data, nothing recorded).
func (s *Seeder) checkData(ctx context.Context, p addPrepared) (held, fresh bool, err error) {
	reason := dataGone(p)
	if reason == "" {
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
	if err := s.db.SetAvailability(ctx, p.row.ID, "unavailable", reason); err != nil {
		return false, false, err
	}
	if err := s.db.AddTorrentEvent(ctx, p.row.ID, "unavailable", reason, map[string]any{"data_dir": p.row.DataDir}); err != nil {
		return false, false, err
	}
	s.mu.Lock()
	s.unavailable++
	s.mu.Unlock()
	s.log.Error().Str("torrent", p.row.HexHash()).Str("name", p.row.Name).Str("reason", reason).
		Msg("torrent data missing: marked unavailable, not downloaded again; clear with `archivd resume` once the data is back")
	return true, false, nil
}

// dataGone returns why the torrent's data looks absent ("" if it does
// not): its directory is missing or unreadable, or not one of its files
// exists (the empty mount point of an unmounted disk).
func dataGone(p addPrepared) string {
	fi, err := os.Stat(p.row.DataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("data directory %s does not exist", p.row.DataDir)
	case err != nil:
		return fmt.Sprintf("data directory %s: %v", p.row.DataDir, err)
	case !fi.IsDir():
		return fmt.Sprintf("data directory %s is not a directory", p.row.DataDir)
	}
	for _, f := range p.files {
		if _, err := os.Lstat(filepath.Join(p.row.DataDir, filepath.FromSlash(f.Path))); err == nil {
			return ""
		}
	}
	if len(p.files) == 0 {
		return ""
	}
	return fmt.Sprintf("none of the %d files exists in data directory %s", len(p.files), p.row.DataDir)
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
