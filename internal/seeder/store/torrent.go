package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/anacrolix/torrent/storage"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
)

// torrentState is what the store knows of one registered torrent.
type torrentState struct {
	id      int64
	ih      [20]byte
	name    string
	dataDir string
	files   []fileEntry
	total   int64 // sum of the file lengths
	// end is where the last file ends in the torrent's byte layout. It
	// exceeds total when files are piece-aligned (v2 and hybrid torrents):
	// the gaps between files are BEP 47 padding, zeros never stored.
	end      int64
	pieceLen int64
	n        int
	// placed: by the fleet planner; writes wait for the recovery limiter.
	placed bool
	// sending: another node is recovering it from the fleet (a replica the
	// planner placed there, not complete yet); reads of its piece data
	// for peers wait for the recovery send limiter (SetRecoverySending).
	sending atomic.Bool
	// dirSeen: a file of the torrent was opened in its data directory
	// (the directory existed while the torrent was registered).
	dirSeen atomic.Bool

	mu       sync.Mutex
	known    catalog.Bits // answered to the engine: recorded (or pending) at all
	complete catalog.Bits
	// dbComplete marks pieces the catalog may record complete (loaded,
	// committed, or being committed). They must not be written: a crash
	// would leave the catalog trusting half-rewritten data. A durable
	// not-complete record clears the bit.
	dbComplete catalog.Bits
	// adopting marks pieces being hashed outside the engine (Adopt): the
	// engine is told they are not complete, and does not hash them, until
	// Adopted records the result.
	adopting catalog.Bits
	// hashedGen: for pieces written or marked complete and not yet
	// committed, the generations of their files (genOf) at the first write
	// (or the mark). Guarded by Store.mu.
	hashedGen map[int]uint64
}

// genOf sums the generations of piece p's files: it changes when any of
// them was found replaced, deleted or moved (generations only grow).
func (ts *torrentState) genOf(p int) uint64 {
	var g uint64
	for _, fe := range ts.pieceFiles(p) {
		g += fe.gen.Load()
	}
	return g
}

// fileEntry is one file of a torrent, with its checked catalog path
// (datadir.SplitPath) relative to the data directory.
type fileEntry struct {
	index  int
	rel    string
	offset int64
	length int64
	// gen counts the descriptors of this file the store found stale
	// (unlinked, replaced or moved under it) and dropped: data hashed
	// through an earlier descriptor may not be at the path (see
	// markComplete and syncAll).
	gen atomic.Uint64
}

// Register sets a torrent's data directory and files and loads its piece
// states in one query. Call it before the torrent with info is added to
// the engine. Registering a registered torrent does nothing: to reload,
// drop it from the engine, Unregister, then Register (piece states still
// waiting for the catalog then win over what it says).
func (s *Store) Register(ctx context.Context, t catalog.Torrent, files []catalog.File) error {
	return s.RegisterLoaded(ctx, t, files, nil)
}

// Loaded is the piece state of many torrents read in one query (LoadMany)
// for RegisterLoaded: adding many torrents costs one query, not one each.
type Loaded struct {
	gen    uint64 // the store's catalog write count when loaded
	states map[int64]catalog.PieceStates
}

// LoadMany reads the piece state of torrents (id -> piece count) in one
// query.
func (s *Store) LoadMany(ctx context.Context, counts map[int64]int) (*Loaded, error) {
	gen := s.writes.Load()
	states, err := s.db.LoadPiecesOf(ctx, counts)
	if err != nil {
		return nil, fmt.Errorf("seeder store: %w", err)
	}
	return &Loaded{gen: gen, states: states}, nil
}

// States returns the loaded piece states of a torrent, if loaded.
func (l *Loaded) States(id int64) (catalog.PieceStates, bool) {
	if l == nil {
		return catalog.PieceStates{}, false
	}
	ps, ok := l.states[id]
	return ps, ok
}

// RegisterLoaded is Register with piece states from LoadMany. They are used
// only if the store has written nothing to the catalog since they were
// loaded (else the torrent's states are read again).
func (s *Store) RegisterLoaded(ctx context.Context, t catalog.Torrent, files []catalog.File, l *Loaded) error {
	if s.torrent(t.InfoHash) != nil {
		return nil
	}
	ts, err := newTorrentState(t, files)
	if err != nil {
		return err
	}
	// No commit may slip between loading and merging the pending states.
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	ps, ok := l.States(t.ID)
	if !ok || l.gen != s.writes.Load() || ps.N != t.PieceCount {
		if ps, err = s.db.LoadPieces(ctx, t.ID, t.PieceCount); err != nil {
			return fmt.Errorf("seeder store: register torrent %s: %w", t.HexHash(), err)
		}
	}
	ts.known, ts.complete = ps.Known, ps.Complete
	for i := range ts.dbComplete {
		ts.dbComplete[i] = ps.Known[i] & ps.Complete[i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if pt := s.pending[t.ID]; pt != nil {
		pt.ts = ts
	}
	for p, c := range s.pending[t.ID].pieceMap() {
		ts.known.Set(p, true)
		ts.complete.Set(p, c)
		if c { // an ambiguous failed commit may have recorded it
			ts.dbComplete.Set(p, true)
		}
	}
	if s.torrents[t.InfoHash] != nil {
		return nil // registered concurrently
	}
	s.torrents[t.InfoHash] = ts
	s.byID[t.ID] = ts
	ts.sending.Store(s.sending[t.ID])
	return nil
}

// Unregister forgets a torrent (after the engine dropped it). Piece
// states still waiting for the catalog are committed all the same.
func (s *Store) Unregister(infohash [20]byte) {
	s.mu.Lock()
	ts := s.torrents[infohash]
	delete(s.torrents, infohash)
	if ts != nil && s.byID[ts.id] == ts {
		delete(s.byID, ts.id)
	}
	s.mu.Unlock()
	if ts != nil {
		s.files.closeTorrent(ts)
	}
}

func (s *Store) torrent(ih [20]byte) *torrentState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.torrents[ih]
}

func newTorrentState(t catalog.Torrent, files []catalog.File) (*torrentState, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("seeder store: register torrent %s: %s", t.HexHash(), fmt.Sprintf(format, a...))
	}
	if !t.HasMetainfo() || t.PieceCount <= 0 || t.PieceLength <= 0 {
		return nil, fail("no metainfo (piece count %d, piece length %d)", t.PieceCount, t.PieceLength)
	}
	if !filepath.IsAbs(t.DataDir) || filepath.Clean(t.DataDir) != t.DataDir {
		return nil, fail("data directory %q is not a clean absolute path", t.DataDir)
	}
	if len(files) == 0 {
		return nil, fail("no files")
	}
	ts := &torrentState{id: t.ID, ih: t.InfoHash, name: t.Name, dataDir: t.DataDir, n: t.PieceCount, pieceLen: t.PieceLength, placed: t.Placed,
		dbComplete: catalog.NewBits(t.PieceCount), adopting: catalog.NewBits(t.PieceCount)}
	seen := map[string]bool{}
	for i, f := range files {
		parts, err := datadir.SplitPath(f.Path)
		if err != nil {
			return nil, fail("file %d: %v", f.Index, err)
		}
		key := strings.Join(parts, "/")
		if seen[key] {
			return nil, fail("file %d: path %q is used twice", f.Index, f.Path)
		}
		seen[key] = true
		if f.Length < 0 || f.Index != i || !ts.follows(f.Offset) {
			return nil, fail("file %d (%q): index, offset %d or length %d does not follow the previous file (which ends at %d) or the next piece boundary after it", f.Index, f.Path, f.Offset, f.Length, ts.end)
		}
		ts.files = append(ts.files, fileEntry{index: f.Index, rel: key, offset: f.Offset, length: f.Length})
		ts.total += f.Length
		ts.end = f.Offset + f.Length
	}
	if last := ts.end - 1; ts.end > 0 && last/ts.pieceLen != int64(ts.n-1) {
		return nil, fail("files end at byte %d, which is not in the last piece (%d pieces of %d bytes)", ts.end, ts.n, ts.pieceLen)
	}
	if t.TotalLength != 0 && ts.total != t.TotalLength {
		return nil, fail("files add up to %d bytes, the torrent has %d", ts.total, t.TotalLength)
	}
	return ts, nil
}

// follows tells whether a file may start at off after the files so far:
// right after the previous one, or, in a piece-aligned layout (v2 and
// hybrid torrents), at the next piece boundary after it, the gap being
// the padding of v1.
func (ts *torrentState) follows(off int64) bool {
	if off == ts.end {
		return true
	}
	if ts.end > math.MaxInt64-ts.pieceLen {
		return false
	}
	return off == (ts.end+ts.pieceLen-1)/ts.pieceLen*ts.pieceLen
}

// completion answers the engine from memory.
func (ts *torrentState) completion(p int) storage.Completion {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if p < 0 || p >= ts.n {
		return storage.Completion{}
	}
	if ts.adopting.Get(p) {
		return storage.Completion{Ok: true}
	}
	if !ts.known.Get(p) {
		return storage.Completion{}
	}
	return storage.Completion{Ok: true, Complete: ts.complete.Get(p)}
}

func (ts *torrentState) set(p int, known, complete bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.known.Set(p, known)
	ts.complete.Set(p, complete)
}

func (ts *torrentState) setDBComplete(p int, v bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.dbComplete.Set(p, v)
}

// mayRecreateDir tells whether the torrent's data directory may be made
// when it is missing: only for a torrent that never had data there (a
// fresh download). One that did (its directory was seen, or a piece is
// recorded complete or being adopted) lost it to a move or an unmount:
// writing a new one, perhaps on the file system under a mount point,
// would download it all again into the wrong place.
func (ts *torrentState) mayRecreateDir() bool {
	if ts.dirSeen.Load() {
		return false
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.complete.Count(ts.n) == 0 && ts.dbComplete.Count(ts.n) == 0 && ts.adopting.Count(ts.n) == 0
}

func (ts *torrentState) mayBeDBComplete(p int) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.dbComplete.Get(p)
}

// filesOf returns the files a byte range of the torrent touches.
func (ts *torrentState) filesOf(off, n int64) []*fileEntry {
	i := sort.Search(len(ts.files), func(i int) bool { return ts.files[i].offset+ts.files[i].length > off })
	var out []*fileEntry
	for ; i < len(ts.files) && ts.files[i].offset < off+n; i++ {
		if ts.files[i].length > 0 {
			out = append(out, &ts.files[i])
		}
	}
	return out
}

// hexHash is the infohash as logs name a torrent ("torrent" field).
func (ts *torrentState) hexHash() string { return hex.EncodeToString(ts.ih[:]) }
