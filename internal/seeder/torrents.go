package seeder

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/seeder/store"
	"github.com/archivd/archivd/internal/torrentfile"
)

// entry is one torrent in the engine.
type entry struct {
	row catalog.Torrent
	t   *torrent.Torrent
	// dirGone: its data directory was found missing and the torrent
	// marked unavailable (markDataDirGone); it leaves the engine.
	dirGone atomic.Bool
	// infoSeen: the engine had the torrent's info (hasInfo).
	infoSeen atomic.Bool
	// fetching: a magnet added without storage only to fetch its metadata;
	// it is replaced by a real entry once the metadata is in the catalog.
	fetching    bool
	cancelFetch context.CancelFunc
	// Set while the scrubber hashes the torrent's data found on disk
	// (adopt.go): cancelled and waited for by drop.
	cancelAdopt context.CancelFunc
	adoptDone   chan struct{}
	// dropped: drop has begun (under Seeder.mu); a second drop of the same
	// entry (the large-add loop and a reconcile at once) does nothing.
	dropped bool

	// Transfer counters already added to the catalog totals, and the last
	// sample for rates. Owned by the stats loop (under Seeder.mu).
	savedUp, savedDown   int64
	sampleUp, sampleDown int64
	sampleAt             time.Time
	upRate, downRate     float64
}

// addPrepared is a catalog torrent with what adding it needs.
type addPrepared struct {
	row   catalog.Torrent
	files []catalog.File
	peers []catalog.Peer
	// fresh: no data on disk and no piece recorded. Its pieces are
	// recorded not complete before the engine sees them, so they are
	// downloaded without a pointless hash pass, and a crash later re-checks
	// only what was in flight.
	fresh bool
	// repairing: pieces whose findings are being repaired; their
	// deliverers are recorded (RepairSource).
	repairing []int
	// loaded holds the piece states of the torrents added with this one.
	loaded *store.Loaded
	// presences, when set, looks into the data directories of the
	// torrents added with this one (each directory opened once).
	presences *datadir.Presences
	// wanted, when set (large adds), is asked again just before the
	// engine takes the torrent in and just after, before its pieces are
	// prioritised: both engine steps hold the engine's lock for seconds
	// (minutes under load) and cannot be cancelled, so a torrent paused
	// or removed meanwhile is abandoned at the first of these points it
	// reaches (errAbandoned).
	wanted func() bool
}

// errAbandoned: a large add stopped because the torrent stopped being
// runnable in the catalog during it.
var errAbandoned = errors.New("no longer runnable in the catalog")

// addWithInfo registers a torrent's storage and adds it to the engine with
// its info, in one turn of the engine's lock. Such an add does not return
// the storage's open error: a torrent the engine holds without info after
// it could not be opened, and is dropped (with the reason a second try
// gives), not left half-added.
func (s *Seeder) addWithInfo(ctx context.Context, p addPrepared) (*entry, error) {
	mi, err := torrentfile.SplitForEngine(p.row.Metainfo)
	if err != nil {
		return nil, fmt.Errorf("seeder: add torrent %s: parse metainfo: %w", p.row.HexHash(), err)
	}
	if err := s.store.RegisterLoaded(ctx, p.row, p.files, p.loaded); err != nil {
		return nil, fmt.Errorf("seeder: add torrent %s: %w", p.row.HexHash(), err)
	}
	if p.fresh {
		all := make([]int, p.row.PieceCount)
		for i := range all {
			all[i] = i
		}
		if err := s.store.MarkNotComplete(ctx, p.row.InfoHash, all); err != nil {
			s.store.Unregister(p.row.InfoHash)
			return nil, fmt.Errorf("seeder: add torrent %s: record fresh download: %w", p.row.HexHash(), err)
		}
	}
	if p.wanted != nil && !p.wanted() {
		s.store.Unregister(p.row.InfoHash)
		return nil, errAbandoned
	}
	var adopt []int
	if !p.fresh {
		adopt = s.store.Adopt(p.row.InfoHash, s.adoptNotComplete())
	}
	s.sources.watch(p.row.ID, p.row.InfoHash, p.repairing, false)
	t, isNew := s.client.AddTorrentOpt(torrent.AddTorrentOpts{InfoHash: p.row.InfoHash, InfoBytes: mi.InfoBytes})
	if !isNew {
		s.store.Unregister(p.row.InfoHash)
		return nil, fmt.Errorf("seeder: add torrent %s: already in the engine", p.row.HexHash())
	}
	if t.Info() == nil {
		// Once more, for the reason: SetInfoBytes returns it.
		if err := t.SetInfoBytes(mi.InfoBytes); err != nil {
			t.Drop()
			s.store.Unregister(p.row.InfoHash)
			return nil, fmt.Errorf("seeder: add torrent %s: open storage: %w", p.row.HexHash(), err)
		}
	}
	// Set before DownloadAll (or the adoption's): no piece is fetched, so
	// none written, before.
	id, ih := p.row.ID, p.row.InfoHash
	t.SetOnWriteChunkError(func(err error) { s.onWriteError(id, ih, err) })
	if p.wanted != nil && !p.wanted() {
		// Before DownloadAll, which takes the engine's lock for as long
		// again with a large torrent.
		t.Drop()
		s.store.Unregister(p.row.InfoHash)
		return nil, errAbandoned
	}
	s.addSources(t, p.row, mi.Announce, mi.WebSeeds, p.peers)
	e := &entry{row: p.row, t: t}
	// The engine holds the info now; the row's copy would only take room
	// for as long as the torrent runs (entries never read it).
	e.row.Metainfo = []byte{} // not nil: HasMetainfo stays true
	if len(adopt) > 0 {
		s.startAdoption(ctx, e, p.row, p.files, adopt) // it calls DownloadAll when done
		return e, nil
	}
	// Pieces recorded not complete (or found bad) are fetched only with a
	// priority: every torrent we keep wants all of its data.
	t.DownloadAll()
	return e, nil
}

// addSources gives a torrent its trackers, web seeds and remembered peers.
func (s *Seeder) addSources(t *torrent.Torrent, row catalog.Torrent, announce [][]string, webSeeds []string, peers []catalog.Peer) {
	// The limit may have changed since the engine started, and a total cap
	// is shared by the torrents running (counted here, not listed from the
	// engine: at 100,000 adds a list per add is quadratic).
	s.mu.Lock()
	running := len(s.running) + 1
	s.mu.Unlock()
	t.SetMaxEstablishedConns(s.connLimit(running))
	var tiers [][]string
	tiers = append(tiers, announce...)
	for _, tr := range append(append([]string{}, row.Trackers...), s.cfg.Trackers...) {
		tiers = append(tiers, []string{tr})
	}
	if len(tiers) > 0 {
		t.AddTrackers(tiers)
	}
	if ws := append(append([]string{}, webSeeds...), row.WebSeeds...); len(ws) > 0 {
		t.AddWebSeeds(ws)
	}
	addPeers(t, peers)
}

// addPeers hands remembered peers to the engine.
func addPeers(t *torrent.Torrent, peers []catalog.Peer) {
	if len(peers) == 0 {
		return
	}
	pis := make([]torrent.PeerInfo, len(peers))
	for i, p := range peers {
		// Trusted: a remembered peer (often another archivd node, or
		// several behind one NAT address) must not be banned for one bad
		// piece; its data is hashed all the same.
		pis[i] = torrent.PeerInfo{Addr: torrent.StringAddr(p.Addr), Source: torrent.PeerSourceDirect, Trusted: true}
	}
	t.AddPeers(pis)
}

// drop removes a torrent from the engine. Its transfer totals are written
// first; then its pending piece states are committed before the store
// forgets it.
func (s *Seeder) drop(ctx context.Context, e *entry, why string) {
	s.mu.Lock()
	if e.dropped {
		s.mu.Unlock()
		return
	}
	e.dropped = true
	if s.running[e.row.ID] == e {
		delete(s.running, e.row.ID)
	}
	s.mu.Unlock()
	if e.cancelFetch != nil {
		e.cancelFetch()
	}
	if e.cancelAdopt != nil {
		e.cancelAdopt()
		<-e.adoptDone
	}
	if !e.fetching {
		if err := s.persistTotals(ctx, []*entry{e}); err != nil {
			s.log.Warn().Err(err).Str("torrent", e.row.HexHash()).Msg("dropped torrent's transfer totals not written")
		}
	}
	e.t.Drop()
	if !e.fetching {
		if err := s.store.Flush(ctx); err != nil {
			s.log.Warn().Err(err).Str("torrent", e.row.HexHash()).Msg("commit piece states of dropped torrent: kept pending")
		}
		s.store.Unregister(e.row.InfoHash)
	}
	s.log.Info().Str("torrent", e.row.HexHash()).Str("name", e.row.Name).Str("why", why).Msg("torrent dropped from engine")
}
