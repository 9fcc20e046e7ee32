package seeder

import (
	"time"

	"github.com/anacrolix/torrent"
	"github.com/archivd/archivd/internal/catalog"
)

// stallLimits: how long a connection to a peer holding pieces we want may
// go without a byte written by us (write), or without a byte from the
// peer (read), before it is closed and the peer dialled again.
//
// write: such a connection writes at least every writerWakeBound (a
// request or a keepalive), unless its writer missed a wake-up after its
// keepalive timer had run out: the engine re-arms that timer only when it
// writes, and writes a keepalive only on a useful connection, so one that
// sat idle and useless (both sides complete) and becomes useful when
// pieces are handed back (MarkBad) has nothing left to wake it if that
// wake-up is lost: the repair would wait for good.
//
// read: the same can happen to the peer's writer (an engine with the bug
// holding our requests read and unsent). It then sends nothing at all;
// a healthy peer that chokes us sends keepalives (every minute or two),
// so this one waits long enough for those.
type stallLimits struct{ write, read time.Duration }

var stalledAfter = stallLimits{write: 30 * time.Second, read: 5 * time.Minute}

// quietMark is when the bytes a connection had written, and read, last
// changed.
type quietMark struct {
	written, read       int64
	wroteAt, lastReadAt time.Time
}

// stallWatch is redialStalled's state, owned by its loop: when each
// connection last wrote, and the peers closed at the last call, dialled
// again at the next (added at once, while the old connection was still
// closing, the peer was never dialled: seen in the test).
type stallWatch struct {
	quiet  map[*torrent.PeerConn]quietMark
	redial map[*torrent.Torrent][]string
}

func newStallWatch() *stallWatch {
	return &stallWatch{quiet: map[*torrent.PeerConn]quietMark{}, redial: map[*torrent.Torrent][]string{}}
}

// stalledConn is a connection redialStalled closed.
type stalledConn struct {
	t    *torrent.Torrent
	addr string // dialled again at the next call; "" when not known (incoming)
}

// redialStalled dials again the peers it closed at the last call, then
// closes the connections of torrents that need data that were quiet past
// the limits although the peer holds a piece the torrent wants.
func redialStalled(ts []*torrent.Torrent, w *stallWatch, now time.Time, lim stallLimits) []stalledConn {
	live := map[*torrent.PeerConn]bool{}
	var out []stalledConn
	for t, addrs := range w.redial {
		for _, a := range addrs {
			addPeers(t, []catalog.Peer{{Addr: a}})
		}
		delete(w.redial, t)
	}
	for _, t := range ts {
		if t.Info() == nil || t.Complete().Bool() {
			continue
		}
		var wanted []torrent.PieceStateRun // read once, when a connection is quiet
		for _, pc := range t.PeerConns() {
			live[pc] = true
			st := pc.Stats()
			m, ok := w.quiet[pc]
			if !ok {
				m = quietMark{written: -1, read: -1}
			}
			if wr := st.BytesWritten.Int64(); wr != m.written {
				m.written, m.wroteAt = wr, now
			}
			if rd := st.BytesRead.Int64(); rd != m.read {
				m.read, m.lastReadAt = rd, now
			}
			w.quiet[pc] = m
			if now.Sub(m.wroteAt) < lim.write && now.Sub(m.lastReadAt) < lim.read {
				continue
			}
			if wanted == nil {
				wanted = t.PieceStateRuns()
			}
			if !holdsWanted(pc, wanted) {
				w.quiet[pc] = quietMark{written: m.written, read: m.read, wroteAt: now, lastReadAt: now}
				continue
			}
			addr := dialAddr(pc)
			pc.Close()
			delete(w.quiet, pc)
			if addr != "" {
				w.redial[t] = append(w.redial[t], addr)
			}
			out = append(out, stalledConn{t, addr})
		}
	}
	for pc := range w.quiet {
		if !live[pc] {
			delete(w.quiet, pc)
		}
	}
	return out
}

// holdsWanted: the peer has a piece that is not complete and has a
// priority (the engine would request it).
func holdsWanted(pc *torrent.PeerConn, runs []torrent.PieceStateRun) bool {
	have := pc.PeerPieces()
	begin := 0
	for _, r := range runs {
		end := begin + r.Length
		if r.Priority != torrent.PiecePriorityNone && !(r.Ok && r.Complete) {
			// Pieces of [begin, end) the peer has: Rank(x) counts those <= x.
			n := have.Rank(uint32(end - 1))
			if begin > 0 {
				n -= have.Rank(uint32(begin - 1))
			}
			if n > 0 {
				return true
			}
		}
		begin = end
	}
	return false
}

// redialStalledConns is redialStalled over the engine's torrents, logged.
func (s *Seeder) redialStalledConns(w *stallWatch) {
	for _, c := range redialStalled(s.client.Torrents(), w, time.Now(), stalledAfter) {
		s.log.Warn().Str("torrent", c.t.InfoHash().HexString()).Str("peer", c.addr).
			Msg("connection to a peer holding wanted pieces went quiet (nothing written for 30 s or read for 5 min): closed and dialled again")
	}
}
