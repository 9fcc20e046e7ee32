package seeder

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
)

// dialNudgeEvery is how often the dial nudge looks for peers the engine
// knows but never dialled.
const dialNudgeEvery = 5 * time.Second

// dialNudge has the engine dial the peers it holds in reserve. The engine
// dials a peer only when it learns of it (a tracker answer, an added
// peer) or when another connection ends, and it dials nothing while the
// download rate limiter is empty, for every torrent, even one it seeds.
// A node downloading at its download cap when a tracker hands it a
// leecher for a torrent it seeds kept that leecher in reserve for good:
// the leecher, which announced first and heard of no peer, waits out the
// tracker's interval (30 min) and gets nothing meanwhile (e2e
// TestFailoverToStandbyKeepsSeedingAndCompletions, y seeding "second"
// while downloading "dataset" at 1 MiB/s). Setting a torrent's connection
// limit to the one it has makes the engine dial again. The same loop
// closes and redials connections gone quiet while their peer holds
// pieces we want (stalled.go) and announces starving torrents.
func (s *Seeder) dialNudge(ctx context.Context) {
	t := time.NewTicker(dialNudgeEvery)
	defer t.Stop()
	announced := map[metainfo.Hash]time.Time{}
	stalls := newStallWatch()
	tick := 0
	// Not while the first full reconcile adds the catalog's torrents: each
	// pass asks every torrent in the engine for its stats, under the
	// engine's lock the adds need (at 100,000 torrents, 8% of the start's
	// CPU), and the torrents just added have dialled what they know.
	select {
	case <-ctx.Done():
		return
	case <-s.started:
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A large add holds the engine's lock for long (largeLoop): try
		// again at the next tick rather than queue behind it.
		if s.largeAdding.Load() {
			continue
		}
		tick++
		s.nudgeDials(ctx, tick)
		s.redialStalledConns(stalls)
		s.announceStarving(ctx, announced)
	}
}

// nudgeBatch bounds the torrents one nudge asks for their stats: with
// more in the engine, each tick takes one of ceil(N / nudgeBatch) slices
// by infohash in turn, so every torrent is looked at every that many
// ticks (at 100,000 torrents, every 2 min; the tracker would take 30).
// Asking 100,000 torrents every 5 s cost a third of a core on an idle
// node, under the engine's lock.
const nudgeBatch = 4096

// nudgeDials makes the engine dial for each torrent of this tick's slice
// with peers in reserve and room for more connections.
func (s *Seeder) nudgeDials(ctx context.Context, tick int) {
	ts := s.client.Torrents()
	n := s.connLimit(len(ts))
	slices := (len(ts) + nudgeBatch - 1) / nudgeBatch
	faulty := s.faulty()
	for _, t := range ts {
		if s.largeAdding.Load() || ctx.Err() != nil {
			break // see dialNudge; a stop does not wait for the walk
		}
		ih := t.InfoHash()
		if !inSlice(ih, slices, tick) {
			continue
		}
		if faulty[ih] || !reserveToDial(t, n) {
			continue
		}
		t.SetMaxEstablishedConns(n) // the same limit: only the dial is new
	}
}

// inSlice: the torrent ih is looked at on this tick, of slices ticks
// that look at every torrent once each.
func inSlice(ih metainfo.Hash, slices, tick int) bool {
	return slices <= 1 || int(binary.BigEndian.Uint32(ih[:4])%uint32(slices)) == tick%slices
}

// reserveToDial is whether t holds peers it has not dialled while it has
// fewer than limit connections.
func reserveToDial(t *torrent.Torrent, limit int) bool {
	st := t.Stats()
	return st.PendingPeers > 0 && st.ActivePeers < limit
}

// connLimit is a torrent's connection limit with torrents in the engine:
// the per-torrent limit or its share of the total cap, else the engine's
// default.
func (s *Seeder) connLimit(torrents int) int {
	n := connsPerTorrent(int(s.maxConns.Load()), int(s.maxConnsTotal.Load()), torrents)
	if n <= 0 {
		n = engineConnsPerTorrent
	}
	return n
}

// faulty are the engine torrents whose writes fail (writefault.go): their
// data download is disallowed, and the engine's own consistency check,
// run now and then when it asks whether a torrent needs data, panics on
// such a torrent (pending pieces, none requestable: seen in e2e
// TestDiskFullIsAStateWithAnAutomaticWayBack). Neither the nudge nor the
// starving announce makes the engine ask for them.
func (s *Seeder) faulty() map[metainfo.Hash]bool {
	if s.faults.n.Load() == 0 {
		return nil
	}
	s.faults.mu.Lock()
	ids := make([]int64, 0, len(s.faults.byID))
	for id := range s.faults.byID {
		ids = append(ids, id)
	}
	s.faults.mu.Unlock()
	out := map[metainfo.Hash]bool{}
	s.mu.Lock()
	for _, id := range ids {
		if e := s.running[id]; e != nil {
			out[e.t.InfoHash()] = true
		}
	}
	s.mu.Unlock()
	return out
}
