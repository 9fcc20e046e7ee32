package seeder

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/anacrolix/torrent"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/catalog"
)

const (
	// rateInterval is how often transfer rates are sampled.
	rateInterval = 2 * time.Second
	// maxPeersPerTorrent bounds the peers remembered and re-added per torrent.
	maxPeersPerTorrent = 50
)

// statsLoop samples rates and writes totals and peers periodically. A
// catalog outage is logged once when it starts and once when it ends.
func (s *Seeder) statsLoop(ctx context.Context) {
	rates := time.NewTicker(rateInterval)
	defer rates.Stop()
	persist := time.NewTicker(s.cfg.StatsInterval)
	defer persist.Stop()
	states := time.NewTicker(stateInterval)
	defer states.Stop()
	started := s.started // published at once when the first reconcile is done

	beat := s.cfg.Heartbeats.Register("seeder stats", loopWithin)
	r := &backoff.Retry{Log: s.log, What: "seeder: write transfer totals, peers and node liveness to the catalog"}
	for {
		beat.Wait()
		select {
		case <-ctx.Done():
			return
		case <-started:
			started = nil
			s.publishStates(ctx)
		case <-states.C:
			beat.Beat()
			// Published as soon as the first full reconcile is done (above);
			// before that each pass would walk the torrents being added.
			if started == nil {
				s.publishStates(ctx)
			}
		case <-rates.C:
			beat.Beat()
			// Not while the first reconcile adds the catalog's torrents: at
			// 100,000 torrents sampling each one every 2 s took 15% of the
			// start's CPU, for rates that are zero then.
			if s.startedDone() {
				s.sampleRates(ctx)
			}
		case <-persist.C:
			beat.Beat()
			err := s.db.TouchNode(ctx, s.cfg.NodeID)
			if s.startedDone() {
				// Both walk every torrent in the engine: not while the first
				// full reconcile adds them (nothing transferred yet, and the
				// torrents just added dial the peers they were given).
				err = errors.Join(s.persistStats(ctx), s.redialPeers(ctx), err)
			}
			switch {
			case ctx.Err() != nil:
			case err != nil:
				r.Fail(err) // the ticker paces the retries
			default:
				r.OK()
			}
		}
	}
}

func (s *Seeder) entries() []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*entry, 0, len(s.running))
	for _, e := range s.running {
		out = append(out, e)
	}
	return out
}

// idle: e's torrent is complete and has no connection (web seeds serve
// only torrents that are not complete).
func idle(e *entry) bool {
	return !e.fetching && e.hasInfo() && e.t.Complete().Bool() && len(e.t.PeerConns()) == 0
}

func counters(t *torrent.Torrent) (up, down int64) {
	st := t.Stats()
	return st.BytesWrittenData.Int64(), st.BytesReadData.Int64()
}

// sampleRates samples each running torrent's transfer rates. A complete
// torrent with no connection moves nothing now: its rates are zero
// without asking the engine for its stats (at 100,000 torrents, mostly
// idle, that walk every 2 s was the node's idle CPU); its next sample
// with a connection averages over the time since its last one. It stops
// early when ctx ends (a stop does not wait for the walk).
func (s *Seeder) sampleRates(ctx context.Context) {
	now := time.Now()
	for i, e := range s.entries() {
		if i%1024 == 0 && ctx.Err() != nil {
			return
		}
		if idle(e) {
			s.mu.Lock()
			e.upRate, e.downRate = 0, 0
			s.mu.Unlock()
			continue
		}
		up, down := counters(e.t)
		s.mu.Lock()
		if dt := now.Sub(e.sampleAt).Seconds(); !e.sampleAt.IsZero() && dt > 0 {
			e.upRate = float64(up-e.sampleUp) / dt
			e.downRate = float64(down-e.sampleDown) / dt
		}
		e.sampleUp, e.sampleDown, e.sampleAt = up, down, now
		s.mu.Unlock()
	}
}

// persistStats writes transfer totals and peers of every running torrent;
// what could not be written is kept for the next time.
func (s *Seeder) persistStats(ctx context.Context) error {
	es := s.entries()
	err := s.persistTotals(ctx, es)
	peers := peersOf(es)
	closed, undo := s.peerMem.drain(es)
	if perr := s.db.SavePeers(ctx, dedupePeers(append(peers, closed...))); perr != nil {
		undo()
		err = errors.Join(err, fmt.Errorf("save peers: %w", perr))
	}
	return err
}

// dedupePeers keeps one row per torrent and address (one upsert may not
// touch a row twice).
func dedupePeers(ps []catalog.Peer) []catalog.Peer {
	type key struct {
		id   int64
		addr string
	}
	seen := map[key]bool{}
	out := ps[:0]
	for _, p := range ps {
		k := key{p.TorrentID, p.Addr}
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// persistTotals adds what was transferred since the last write; on failure
// the delta stays and is written next time.
func (s *Seeder) persistTotals(ctx context.Context, es []*entry) error {
	var ts []catalog.Transfer
	var upd []*entry
	var ups, downs []int64
	for i, e := range es {
		if i%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("write transfer totals: %w", ctx.Err())
		}
		if e.fetching {
			continue
		}
		up, down := counters(e.t)
		s.mu.Lock()
		dUp, dDown := up-e.savedUp, down-e.savedDown
		s.mu.Unlock()
		if dUp == 0 && dDown == 0 {
			continue
		}
		ts = append(ts, catalog.Transfer{TorrentID: e.row.ID, Up: dUp, Down: dDown})
		upd, ups, downs = append(upd, e), append(ups, up), append(downs, down)
	}
	if err := s.db.AddTransfers(ctx, ts); err != nil {
		return fmt.Errorf("write transfer totals: %w", err)
	}
	s.mu.Lock()
	for i, e := range upd {
		e.savedUp, e.savedDown = ups[i], downs[i]
	}
	s.mu.Unlock()
	return nil
}

// peersOf lists the dialable addresses of the connected peers.
func peersOf(es []*entry) []catalog.Peer {
	var out []catalog.Peer
	for _, e := range es {
		for _, pc := range e.t.PeerConns() {
			if addr := dialAddr(pc); addr != "" {
				out = append(out, catalog.Peer{TorrentID: e.row.ID, Addr: addr, Source: string(pc.Discovery)})
			}
		}
	}
	return out
}

// dialAddr is the address to dial a peer again: the remote address of a
// connection we made, or the remote host with the listen port it
// announced. An incoming peer that announced no port is not dialable.
func dialAddr(pc *torrent.PeerConn) string {
	if pc.RemoteAddr == nil {
		return ""
	}
	ra := pc.RemoteAddr.String()
	if port, ok := listenPorts.Load(pc); ok {
		host, _, err := net.SplitHostPort(ra)
		if err != nil {
			return ""
		}
		return net.JoinHostPort(host, strconv.Itoa(port.(int)))
	}
	if pc.Discovery == torrent.PeerSourceIncoming {
		return ""
	}
	return ra
}

// redialPeers gives torrents that need data and have no connection their
// remembered peers again: the engine forgets a peer whose dial or
// handshake failed (say the other node was still starting), and without
// a tracker or the DHT nothing else would bring it back.
func (s *Seeder) redialPeers(ctx context.Context) error {
	byID := map[int64]*entry{}
	var ids []int64
	for _, e := range s.entries() {
		if !e.fetching && e.t.Info() != nil && e.t.Complete().Bool() {
			continue
		}
		if len(e.t.PeerConns()) > 0 {
			continue
		}
		byID[e.row.ID] = e
		ids = append(ids, e.row.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	peers, err := s.knownPeers(ctx, ids)
	if err != nil {
		return fmt.Errorf("read peers to dial again: %w", err)
	}
	for id, ps := range peers {
		addPeers(byID[id].t, ps)
	}
	return nil
}

// UploadedTotal is the piece data sent to peers since start, all torrents;
// cheap (the engine's counters, no lock), for callers that sample it often.
func (s *Seeder) UploadedTotal() int64 {
	st := s.client.ConnStats()
	return st.BytesWrittenData.Int64()
}

// Transferred is the piece data sent to and received from peers since
// start, all torrents (those dropped since included, so it never goes
// down); cheap like UploadedTotal.
func (s *Seeder) Transferred() (up, down int64) {
	st := s.client.ConnStats()
	return st.BytesWrittenData.Int64(), st.BytesReadData.Int64()
}
