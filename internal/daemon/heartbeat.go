package daemon

import (
	"context"
	"time"
)

// rootsEvery: the heartbeat refreshes the data roots' capacity and free
// space every this many beats (a minute at the 10 s beat).
const rootsEvery = 6

// heartbeat registers this node (name, BitTorrent address, zone, tags,
// version: nodeInfo) and refreshes its last_seen_at at once and every
// beat, so that the fleet knows it is up (catalog.NodeUpTTL) and `archivd
// verify --wait` knows a daemon is there to work queued runs; its data
// roots' capacity and free space are refreshed at once and every
// rootsEvery beats. A catalog that does not answer is logged once when it
// starts failing and once when it answers again; the beat goes on either
// way.
func (d *Daemon) heartbeat(ctx context.Context, node, version string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing, rootsDue := false, true
	for beat := 1; ; beat++ {
		bctx, cancel := context.WithTimeout(ctx, every)
		err := d.DB.HeartbeatNode(bctx, node, d.nodeInfo(version))
		if err == nil && rootsDue {
			err = d.recordDataRoots(bctx, node)
		}
		rootsDue = err != nil || beat%rootsEvery == 0
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			d.log.Warn().Err(err).Str("node", node).Msg("heartbeat: cannot record this node as up; retrying every beat")
		case err == nil && failing:
			d.log.Info().Str("node", node).Msg("heartbeat: recorded again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
