package daemon

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/rs/zerolog"
)

// rootsEvery: the heartbeat refreshes the data roots' capacity and free
// space every this many beats (a minute at the 10 s beat).
const rootsEvery = 6

// A beat that fails is tried again after a short backoff (beatRetryMin up
// to beatRetryMax), not at the next beat: the node is live only while
// seen within catalog.NodeUpTTL (three beats), and a catalog restart
// leaves broken connections in the pool, each of which fails one attempt.
// Waiting a whole beat after each such failure let the node's row go
// ~30 s without a refresh after a PostgreSQL stop and start, and `archivd
// verify --wait` said no serve was running while it ran. Each attempt is
// bounded by beatTimeout, so a catalog that hangs costs a few seconds.
const (
	beatRetryMin = 250 * time.Millisecond
	beatRetryMax = catalog.NodeHeartbeat / 4
	beatTimeout  = catalog.NodeHeartbeat / 2
)

// heartbeat registers this node (name, BitTorrent address, zone, tags,
// version: nodeInfo) and refreshes its last_seen_at at once and every
// beat, so that the fleet knows it is up (catalog.NodeUpTTL) and `archivd
// verify --wait` knows a daemon is there to work queued runs; its data
// roots' capacity and free space are refreshed at once and every
// rootsEvery beats. A catalog that does not answer is logged once when it
// starts failing and once when it answers again; the beat goes on either
// way. tried (if not nil) is closed once the first beat has been tried.
func (d *Daemon) heartbeat(ctx context.Context, node, version string, every time.Duration, tried chan<- struct{}) {
	rootsDue, n := true, 0
	beatLoop(ctx, every, d.log.With().Str("node", node).Logger(), func(bctx context.Context) error {
		n++
		err := d.DB.HeartbeatNode(bctx, node, d.nodeInfo(version))
		if err == nil && rootsDue {
			err = d.recordDataRoots(bctx, node)
		}
		rootsDue = err != nil || n%rootsEvery == 0
		if n == 1 && tried != nil {
			close(tried)
		}
		return err
	})
}

// beatLoop calls beat at once and every every; a failed beat is tried
// again after a short backoff (beatRetryMin..beatRetryMax, at most every).
// It returns when ctx ends.
func beatLoop(ctx context.Context, every time.Duration, log zerolog.Logger, beat func(context.Context) error) {
	retry := backoff.Backoff{Min: beatRetryMin, Max: beatRetryMax}
	failing := false
	for {
		start := time.Now()
		bctx, cancel := context.WithTimeout(ctx, min(every, beatTimeout))
		err := beat(bctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			log.Warn().Err(err).Msg("heartbeat: cannot record this node as up; retrying")
		case err == nil && failing:
			log.Info().Msg("heartbeat: recorded again")
		}
		failing = err != nil
		wait := every - time.Since(start)
		if err != nil {
			wait = min(every, retry.Next())
		} else {
			retry.Reset()
		}
		if backoff.Sleep(ctx, max(wait, 0)) != nil {
			return
		}
	}
}
