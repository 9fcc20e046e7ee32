package verify

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// recordIntact makes pieces that read good, and were not recorded
// complete, recorded complete. A torrent in the engine re-hashes them
// itself (Repairer.Recheck), so that the engine and the catalog agree and
// the store records them through its durable path; for any other torrent
// the files are synced and the catalog written here.
func (e *engine) recordIntact(ctx context.Context, tg *scrub.Target, torrentID int64, pieces []int) error {
	if len(pieces) == 0 {
		return nil
	}
	if r := e.cfg.Repairer; r != nil {
		handled, err := r.Recheck(ctx, torrentID, pieces)
		if err != nil {
			return fmt.Errorf("verify: re-check %d intact pieces of torrent %d in the engine: %w", len(pieces), torrentID, err)
		}
		if handled {
			e.log.Info().Int64("torrent_id", torrentID).Int("pieces", len(pieces)).Msg("verify: intact pieces handed to the seeder to record complete")
			return nil
		}
	}
	if err := syncPieces(tg, pieces); err != nil {
		return fmt.Errorf("verify: record %d intact pieces of torrent %d: %w", len(pieces), torrentID, err)
	}
	ups := make([]catalog.PieceUpdate, len(pieces))
	for i, p := range pieces {
		ups[i] = catalog.PieceUpdate{Piece: p, Complete: true}
	}
	if err := e.db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{torrentID: ups}); err != nil {
		return err
	}
	e.log.Info().Int64("torrent_id", torrentID).Int("pieces", len(pieces)).Msg("verify: intact pieces recorded complete")
	return nil
}

// syncPieces makes the data of pieces durable (fsync of every file they
// touch) before they are recorded complete: what was read may so far
// live only in the page cache.
func syncPieces(tg *scrub.Target, pieces []int) error {
	root, err := datadir.OpenRoot(tg.DataDir)
	if err != nil {
		return err
	}
	defer root.Close()
	done := map[int]bool{}
	for _, p := range pieces {
		start := int64(p) * tg.PieceLength
		end := min(start+tg.PieceLength, tg.TotalLength)
		for i, f := range tg.Files {
			if f.Pad || done[i] || f.Offset >= end || f.Offset+f.Length <= start || f.Length == 0 {
				continue
			}
			done[i] = true
			if err := syncFile(root, f.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

func syncFile(root *datadir.Root, rel string) error {
	fh, _, err := root.OpenFile(rel, datadir.Read)
	if err != nil {
		return err
	}
	err = fh.Sync()
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", rel, err)
	}
	return nil
}

// sourcesOf names who repaired the pieces of open findings that read good
// now: recorded complete again by the repair (the usual case) or not.
// Asking only for pieces not recorded complete credited a repair the
// store had already committed to "found intact on re-check".
func (e *engine) sourcesOf(torrentID int64, flagged map[int]bool, bad []catalog.VerifyFinding) map[int]string {
	failed := make(map[int]bool, len(bad))
	for _, b := range bad {
		failed[b.Piece] = true
	}
	out := map[int]string{}
	for p := range flagged {
		if !failed[p] {
			out[p] = e.repairSource(torrentID, p)
		}
	}
	return out
}

// closed logs closed findings, tells the observer and forgets their
// told repair sources.
func (e *engine) closed(fs []catalog.VerifyFinding) {
	n := 0
	for _, f := range fs {
		n += f.PieceCount
		e.log.Info().Int64("torrent_id", f.TorrentID).Int("piece", f.Piece).Int("pieces", f.PieceCount).
			Str("source", f.RepairSource).Msg("verify: finding closed, pieces read good")
		e.toldMu.Lock()
		for _, p := range f.Pieces() {
			delete(e.told, pieceRef{f.TorrentID, p})
		}
		e.toldMu.Unlock()
	}
	if o := e.cfg.Observer; o != nil && n > 0 {
		o.Repaired(n)
	}
}
