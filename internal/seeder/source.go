package seeder

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/anacrolix/torrent"

	"github.com/archivd/archivd/internal/catalog"
)

// repairSources remembers who delivered the data of pieces under repair,
// so that a closed finding can say where its good bytes came from. Only
// pieces handed over by MarkBad (or found being repaired when a torrent is
// added) are watched, at most maxWatched of them; the oldest watch goes
// first. Per piece it keeps the last deliverer of every chunk: when a piece
// fails its hash the engine fetches all its chunks again, so the chunks on
// disk once it is good are exactly the last ones delivered.
type repairSources struct {
	mu      sync.Mutex
	watched map[pieceKey]*pieceSources
	order   []pieceKey // watch order, for eviction
	max     int
	ihOf    map[int64][20]byte // catalog id -> infohash of watched torrents
}

type pieceKey struct {
	ih    [20]byte
	piece int
}

// pieceSources: chunk i (by 16 KiB offset) came from names[chunks[i]-1];
// 0 = not received since the watch began.
type pieceSources struct {
	names  []string
	chunks []uint8
}

const (
	maxWatchedPieces = 16384
	chunkUnit        = 16 << 10 // the engine's request size
	maxNamesPerPiece = 32
)

func newRepairSources(max int) *repairSources {
	return &repairSources{watched: map[pieceKey]*pieceSources{}, max: max, ihOf: map[int64][20]byte{}}
}

// watch starts recording the deliverers of pieces. again restarts the
// record of pieces already watched (MarkBad: they are bad once more);
// otherwise it is kept (a torrent re-added mid-repair).
func (rs *repairSources) watch(id int64, ih [20]byte, pieces []int, again bool) {
	if len(pieces) == 0 {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.ihOf[id] = ih
	for _, p := range pieces {
		k := pieceKey{ih, p}
		if _, ok := rs.watched[k]; ok && !again {
			continue
		} else if !ok {
			rs.order = append(rs.order, k)
		}
		rs.watched[k] = &pieceSources{}
	}
	for len(rs.watched) > rs.max && len(rs.order) > 0 {
		delete(rs.watched, rs.order[0])
		rs.order = rs.order[1:]
	}
	if len(rs.order) > 2*rs.max { // drop keys already taken
		rs.order = slices.DeleteFunc(rs.order, func(k pieceKey) bool { _, ok := rs.watched[k]; return !ok })
	}
}

// take returns the deliverers of a watched piece joined with ", " ("" if
// none was recorded) and stops watching it.
func (rs *repairSources) take(id int64, piece int) string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	ih, ok := rs.ihOf[id]
	if !ok {
		return ""
	}
	k := pieceKey{ih, piece}
	ps := rs.watched[k]
	delete(rs.watched, k)
	if ps == nil {
		return ""
	}
	used := make([]bool, len(ps.names))
	for _, c := range ps.chunks {
		if c > 0 {
			used[c-1] = true
		}
	}
	var out []string
	for i, n := range ps.names {
		if used[i] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// received is the engine's ReceivedUsefulData callback. It runs under the
// engine's lock for every useful chunk, so it returns at once for pieces
// not watched.
func (rs *repairSources) received(ev torrent.ReceivedUsefulDataEvent) {
	t := ev.Peer.Torrent()
	if t == nil || ev.Message == nil {
		return
	}
	k := pieceKey{t.InfoHash(), int(ev.Message.Index)}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	ps := rs.watched[k]
	if ps == nil {
		return
	}
	ps.record(int(ev.Message.Begin)/chunkUnit, sourceName(ev.Peer))
}

func (ps *pieceSources) record(chunk int, name string) {
	i := slices.Index(ps.names, name)
	if i < 0 {
		if len(ps.names) >= maxNamesPerPiece {
			return
		}
		ps.names = append(ps.names, name)
		i = len(ps.names) - 1
	}
	if chunk >= len(ps.chunks) {
		ps.chunks = append(ps.chunks, make([]uint8, chunk+1-len(ps.chunks))...)
	}
	ps.chunks[chunk] = uint8(i + 1)
}

// sourceName names a deliverer for people: "peer 127.0.0.1:51413
// (Transmission 3.00)" (its listen address when it told us, and the client
// name from its extended handshake when known) or "web seed http://...".
func sourceName(p *torrent.Peer) string {
	if pc, ok := p.TryAsPeerConn(); ok {
		addr := dialAddr(pc)
		if addr == "" && pc.RemoteAddr != nil {
			addr = pc.RemoteAddr.String()
		}
		if v, _ := pc.PeerClientName.Load().(string); v != "" {
			return fmt.Sprintf("peer %s (%s)", addr, v)
		}
		return "peer " + addr
	}
	return "web seed " + webSeedURL(p)
}

// webSeedURL recovers a web seed's URL: the engine keeps it unexported
// and shows it only in the peer's String ("webseed peer for \"URL\"" in
// anacrolix/torrent v1.61.0); its RemoteAddr holds only the host.
func webSeedURL(p *torrent.Peer) string {
	if rest, ok := strings.CutPrefix(p.String(), "webseed peer for "); ok {
		if u, err := strconv.Unquote(rest); err == nil {
			return u
		}
	}
	host := ""
	if p.RemoteAddr != nil {
		host = p.RemoteAddr.String()
	}
	return p.Network + "://" + host
}

// RepairSource names who delivered the data of a piece since MarkBad
// handed it over ("peer ...", "web seed ...", several joined by ", "), or
// "" when nothing was recorded (the piece became good without a download,
// or was delivered before this process watched it). It forgets the piece:
// ask once, when the piece reads back good.
func (s *Seeder) RepairSource(torrentID int64, piece int) string {
	return s.sources.take(torrentID, piece)
}

// repairingPieces returns, per torrent of ids, the pieces whose findings
// are being repaired: a torrent (re-)added while a repair is under way,
// after a restart say, records their deliverers as MarkBad would have.
func (s *Seeder) repairingPieces(ctx context.Context, ids []int64) (map[int64][]int, error) {
	fs, err := s.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{States: []catalog.FindingState{catalog.FindingRepairing}})
	if err != nil {
		return nil, fmt.Errorf("seeder: pieces under repair: %w", err)
	}
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := map[int64][]int{}
	for _, f := range fs {
		if want[f.TorrentID] && !slices.Contains(out[f.TorrentID], f.Piece) {
			out[f.TorrentID] = append(out[f.TorrentID], f.Piece)
		}
	}
	return out, nil
}
