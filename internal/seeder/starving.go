package seeder

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/tracker"
)

// starvingAnnounceEvery spaces the seeder's own announces of a torrent
// that needs data and has no peer at all; starvingPerTick bounds how many
// torrents one tick announces (a dead tracker costs its timeout each).
const (
	starvingAnnounceEvery = time.Minute
	starvingPerTick       = 4
	starvingTimeout       = 15 * time.Second
)

// announceStarving asks the trackers again for peers of the torrents that
// need data and have no connection, no dial under way and no peer in
// reserve, at most once a minute each. The engine announces again only
// after the tracker's interval (30 min for opentracker), even with no
// peer; and it forgets a peer whose dial failed, say because that node,
// downloading at its download cap, refused every connection meanwhile (the
// engine takes none while the download limiter is empty). Without this a
// download that lost its only seed that way waited half an hour (e2e
// TestFailoverToStandbyKeepsSeedingAndCompletions, parallel run 2).
// announced is owned by the calling loop.
func (s *Seeder) announceStarving(ctx context.Context, announced map[metainfo.Hash]time.Time) {
	now := time.Now()
	ts := s.client.Torrents()
	live := make(map[metainfo.Hash]bool, len(ts))
	done := 0
	faulty := s.faulty()
	for _, t := range ts {
		ih := t.InfoHash()
		live[ih] = true
		if ctx.Err() != nil {
			return
		}
		if done >= starvingPerTick || s.largeAdding.Load() || faulty[ih] || !starving(t) {
			continue
		}
		if last, ok := announced[ih]; ok && now.Sub(last) < starvingAnnounceEvery {
			continue
		}
		announced[ih] = now
		done++
		s.announceOnce(ctx, t)
	}
	for ih := range announced {
		if !live[ih] {
			delete(announced, ih)
		}
	}
}

// starving: t needs data and has no peer, connected, dialling or known.
func starving(t *torrent.Torrent) bool {
	if t.Info() != nil && t.Complete().Bool() {
		return false
	}
	st := t.Stats()
	return st.ActivePeers == 0 && st.HalfOpenPeers == 0 && st.PendingPeers == 0
}

// announceOnce announces t, as the engine does (its peer id and port), to
// each of its HTTP and UDP trackers and hands the engine the peers they
// return. A tracker that fails is skipped: the next minute tries again.
func (s *Seeder) announceOnce(ctx context.Context, t *torrent.Torrent) {
	left := int64(-1)
	if t.Info() != nil {
		left = t.BytesMissing()
	}
	req := tracker.AnnounceRequest{InfoHash: t.InfoHash(), PeerId: s.client.PeerID(), Left: left,
		Port: uint16(s.client.LocalPort()), NumWant: -1, Event: tracker.None}
	self := s.ListenAddr()
	for _, tier := range t.Metainfo().AnnounceList {
		for _, u := range tier {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "udp://") {
				continue
			}
			actx, cancel := context.WithTimeout(ctx, starvingTimeout)
			resp, err := tracker.Announce{TrackerUrl: u, Request: req, Context: actx}.Do()
			cancel()
			if err != nil {
				s.log.Debug().Err(err).Str("tracker", u).Str("torrent", t.InfoHash().HexString()).Msg("announce for a torrent with no peer")
				continue
			}
			var peers []torrent.PeerInfo
			for _, p := range resp.Peers {
				addr := net.JoinHostPort(p.IP.String(), strconv.Itoa(p.Port))
				if addr == self {
					continue
				}
				peers = append(peers, torrent.PeerInfo{Addr: torrent.StringAddr(addr), Source: torrent.PeerSourceTracker})
			}
			if len(peers) > 0 {
				t.AddPeers(peers)
			}
		}
	}
}
