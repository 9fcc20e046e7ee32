package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
)

// releaseWait bounds how long a pass waits for the engine to release a
// replica marked for removal.
const releaseWait = 5 * time.Second

// removeMarked removes this node's replicas marked for removal: once its
// engine no longer runs one (Release), it deletes the replica's files if
// the planner placed it here (placed_by) and no other replica here shares
// its data directory, else keeps them and says so, then deletes the row.
// A replica its engine still runs waits for the next pass.
func (p *Planner) removeMarked(ctx context.Context) error {
	rs, err := p.DB.RemovingReplicas(ctx)
	if err != nil {
		return err
	}
	for _, r := range rs {
		t := r.Torrent
		if p.Release != nil {
			// Bounded: a reconcile loop busy for long (a large full
			// reconcile) must not hold the pass, and the planner lease
			// with it; the next pass asks again.
			rctx, cancel := context.WithTimeout(ctx, releaseWait)
			out, err := p.Release(rctx, t.ID)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return nil
			}
			if err != nil {
				return err
			}
			if !out {
				continue
			}
		}
		log := p.Log.With().Str("torrent", t.HexHash()).Str("name", t.Name).Str("data_dir", t.DataDir).Str("reason", r.Reason).Logger()
		switch {
		case t.DataDir == "":
			// placed and never settled: nothing on disk
		case r.PlacedBy == "":
			log.Warn().Msg("fleet: replica marked for removal was not placed by the planner: its files are kept")
		case r.SharedDir:
			log.Warn().Msg("fleet: replica marked for removal shares its data directory with another replica on this node: its files are kept")
		default:
			res, err := datadir.RemoveTorrent(t, r.Files)
			if err != nil {
				return fmt.Errorf("delete the files of replica %s (%s) marked for removal: %w", t.Name, t.HexHash(), err)
			}
			for _, k := range res.Kept {
				log.Warn().Str("kept", k).Msg("fleet: removing replica: file kept")
			}
			log.Info().Int("files_removed", res.Files).Int("dirs_removed", res.Dirs).Msg("fleet: files of the replica marked for removal deleted")
		}
		if err := p.DB.DropReplica(ctx, t.ID); err != nil {
			if errors.Is(err, catalog.ErrNotMarked) {
				continue // gone meanwhile
			}
			return err
		}
		log.Info().Msg("fleet: replica removed from this node")
	}
	return nil
}
