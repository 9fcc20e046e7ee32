package daemon

import (
	"context"
	"time"
)

// heartbeat refreshes the node's last_seen_at every catalog.NodeHeartbeat,
// so that `archivd verify --wait` and `verify status` can tell whether a
// daemon is there to work queued runs (catalog.LiveNodes). A catalog that
// does not answer is logged once when it starts failing and once when it
// answers again; the beat goes on either way.
func (d *Daemon) heartbeat(ctx context.Context, node string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		bctx, cancel := context.WithTimeout(ctx, every)
		err := d.DB.TouchNode(bctx, node)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			d.log.Warn().Err(err).Str("node", node).Msg("heartbeat: cannot record this node as live; retrying every beat")
		case err == nil && failing:
			d.log.Info().Str("node", node).Msg("heartbeat: recorded again")
		}
		failing = err != nil
	}
}
