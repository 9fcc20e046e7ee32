// Package store is archivd's torrent data storage for the anacrolix engine:
// plain files in one directory per torrent (pread/pwrite, no part files,
// no mmap, no symlinks followed) and piece completion kept in the catalog.
//
// Durability rules (the heart of archivd):
//   - a piece is recorded complete only after every file it touches was
//     fdatasync'ed (group commit: one fsync per touched file, then one
//     transaction, every CommitInterval);
//   - a piece is recorded not complete before the engine may rewrite it
//     (MarkNotComplete is synchronous; while that record is not durable,
//     writes to the piece are refused with ErrNotDurable);
//   - a piece never recorded reads back as unknown (the engine hashes it).
//
// So whatever the catalog says "complete" is on disk, after any crash.
//
// Engine integration:
//   - Register before the torrent gets its info in the engine (OpenTorrent
//     refuses unregistered torrents); Unregister only after the engine
//     dropped it (t.Drop), after a Flush if its states should be kept.
//   - Call t.DownloadAll(): pieces recorded not complete are only fetched
//     with a priority. Set DropMutuallyCompletePeers false.
//   - A write refused with ErrNotDurable (catalog down while a complete
//     piece went bad) makes the engine's default chunk-write error handler
//     disallow data download for the whole torrent, for good: install
//     t.SetOnWriteChunkError and ignore errors.Is(err, ErrNotDurable).
//   - Read errors (missing or short files) are returned as errors, never
//     as zeros, and never change the recorded state: a missing mount is
//     not bitrot, the verifier decides.
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent/storage"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/heartbeat"
)

// ErrNotDurable is returned (wrapped) when a piece state change could not
// be recorded in the catalog yet: it is queued and retried.
var ErrNotDurable = errors.New("piece state not yet durable in the catalog")

// ErrPendingFull is returned (wrapped) by MarkComplete when MaxPending
// completions already wait for an unreachable catalog.
var ErrPendingFull = errors.New("too many piece completions waiting for the catalog")

// Options configures a Store.
type Options struct {
	DB     *catalog.DB
	Logger zerolog.Logger
	// CommitInterval is the group commit interval; 0 = 200ms.
	CommitInterval time.Duration
	// MaxPending bounds completions held in memory while the catalog is
	// unreachable; 0 = 1_000_000. Beyond it MarkComplete returns
	// ErrPendingFull and the piece reads back as unknown (hashed again at
	// the next start instead of trusted).
	MaxPending int
	// MaxOpenFiles bounds the file descriptors kept open; 0 = 512.
	MaxOpenFiles int
	// MaxBackoff bounds the wait between commit attempts while the catalog
	// is unreachable (doubling from CommitInterval); 0 = 30s.
	MaxBackoff time.Duration
	// Heartbeats gets the commit loop's beat (the daemon's watchdog); nil = none.
	Heartbeats *heartbeat.Monitor
	// OnWritten, if set, is called after every chunk written without
	// error (the seeder ends a torrent's write fault with it). It must be
	// cheap and must not block.
	OnWritten func(torrentID int64)
	// OnDataDirMissing, if set, is called when a read for a peer found the
	// torrent's data directory itself missing (datadir.ErrDataDirMissing:
	// moved away or unmounted while seeding). Must not block.
	OnDataDirMissing func(torrentID int64, err error)
	// DirMissingHold bounds how long such a read waits for the engine to
	// drop the torrent before it returns its error (piece.heldRead);
	// 0 = 30s.
	DirMissingHold time.Duration
	// OnReadFailed, if set, is called when a read for a peer failed for
	// any reason but a missing data directory (a file cut short, deleted,
	// unreadable). Must not block.
	OnReadFailed func(torrentID int64, err error)
	// FailedReadHold bounds how long any other failed read for a peer (a
	// file cut short or unreadable) waits for a drop of the torrent
	// before it returns its error (piece.ReadAt says why); 0 = 1s.
	FailedReadHold time.Duration
}

// Health is the store's view of the catalog.
type Health struct {
	DBOK      bool
	LastError string
	// Pending is how many piece state changes wait to be committed.
	Pending int
	// Since is when DBOK last changed.
	Since time.Time
}

// Store is the storage given to the engine. Create it with New, run Run.
type Store struct {
	db       *catalog.DB
	log      zerolog.Logger
	interval time.Duration
	// maxBackoff bounds retries while the catalog is unreachable.
	maxBackoff time.Duration
	maxPend    int
	files      *fdCache
	// beat is the commit loop's heartbeat; commitDownSince is when the
	// current run of failed commits began (zero: commits work). Both
	// belong to Run.
	beat            *heartbeat.Beat
	commitDownSince time.Time

	mu        sync.Mutex
	torrents  map[[20]byte]*torrentState
	byID      map[int64]*torrentState
	pending   map[int64]*pendingTorrent // by catalog torrent id
	nPending  int
	dirtyDirs map[string]struct{}
	health    Health

	// commitMu orders catalog writes: a synchronous not-complete record
	// never races with an older complete record of the same piece.
	commitMu sync.Mutex
	// writes counts catalog writes of piece states (under commitMu), so
	// that states loaded in bulk are known stale after one.
	writes atomic.Uint64
	kick   chan struct{}

	bytesRead    atomic.Int64
	bytesWritten atomic.Int64

	// recovery bounds writes to placed torrents (SetRecoveryRate);
	// recoveryWritten counts them; stopped ends when Run returns.
	recovery        *rate.Limiter
	recoveryWritten atomic.Int64
	// recoverySend bounds reads for peers of the torrents other nodes are
	// recovering (sending, under mu: SetRecoverySending); recoverySent
	// counts them.
	recoverySend *rate.Limiter
	recoverySent atomic.Int64
	sending      map[int64]bool
	stopped      context.Context
	stop         context.CancelFunc

	// Test observers (nil in production): called after each successful
	// fdatasync of a file, and just before each catalog write of piece
	// states.
	onSync  func(path string)
	onStore func(updates map[int64][]catalog.PieceUpdate)
	onWrite func(torrentID int64, piece int)
	// onWritten: Options.OnWritten.
	onWritten func(torrentID int64)
	// onDirMissing: Options.OnDataDirMissing.
	onDirMissing   func(torrentID int64, err error)
	dirMissingHold time.Duration
	failedReadHold time.Duration
	onReadFailed   func(torrentID int64, err error)
}

// New returns a Store. It does not touch the catalog until Register.
func New(o Options) (*Store, error) {
	if o.DB == nil {
		return nil, fmt.Errorf("seeder store: no catalog given")
	}
	if o.CommitInterval < 0 || o.MaxPending < 0 || o.MaxOpenFiles < 0 || o.MaxBackoff < 0 {
		return nil, fmt.Errorf("seeder store: negative CommitInterval, MaxPending, MaxOpenFiles or MaxBackoff")
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = defaultMaxBackoff
	}
	if o.CommitInterval == 0 {
		o.CommitInterval = 200 * time.Millisecond
	}
	if o.MaxPending == 0 {
		o.MaxPending = 1_000_000
	}
	if o.MaxOpenFiles == 0 {
		o.MaxOpenFiles = 512
	}
	stopped, stop := context.WithCancel(context.Background()) // ends with Run
	return &Store{
		recovery:       rate.NewLimiter(rate.Inf, recoveryBurst),
		recoverySend:   rate.NewLimiter(rate.Inf, recoveryBurst),
		stopped:        stopped,
		stop:           stop,
		db:             o.DB,
		log:            o.Logger.With().Str("component", "store").Logger(),
		interval:       o.CommitInterval,
		maxBackoff:     max(o.MaxBackoff, o.CommitInterval),
		maxPend:        o.MaxPending,
		beat:           o.Heartbeats.Register("piece state group commit", time.Minute),
		files:          newFDCache(o.MaxOpenFiles),
		torrents:       map[[20]byte]*torrentState{},
		byID:           map[int64]*torrentState{},
		pending:        map[int64]*pendingTorrent{},
		dirtyDirs:      map[string]struct{}{},
		health:         Health{DBOK: true, Since: time.Now()},
		kick:           make(chan struct{}, 1),
		onWritten:      o.OnWritten,
		onDirMissing:   o.OnDataDirMissing,
		dirMissingHold: cmp.Or(o.DirMissingHold, 30*time.Second),
		failedReadHold: cmp.Or(o.FailedReadHold, time.Second),
		onReadFailed:   o.OnReadFailed,
	}, nil
}

// Health reports whether the catalog is reachable and what waits for it.
func (s *Store) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.health
	h.Pending = s.nPending
	return h
}

// BytesRead is the piece data read from disk (by the engine) so far.
func (s *Store) BytesRead() int64 { return s.bytesRead.Load() }

// BytesWritten is the piece data written to disk so far.
func (s *Store) BytesWritten() int64 { return s.bytesWritten.Load() }

// ClientImpl is the storage for torrent.ClientConfig.DefaultStorage (or
// AddTorrentOpts.Storage). Closing it closes open files only: the Store
// itself is stopped by cancelling Run's context.
func (s *Store) ClientImpl() storage.ClientImplCloser { return clientImpl{s} }

func (s *Store) setHealth(ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok != s.health.DBOK {
		s.health.Since = time.Now()
		if ok {
			s.log.Info().Msg("catalog reachable again")
		} else {
			s.log.Error().Err(err).Msg("catalog unreachable: holding piece states in memory")
		}
	}
	s.health.DBOK = ok
	if err != nil {
		s.health.LastError = err.Error()
	}
}

// byIDForTest returns the registered state of a catalog torrent.
func (s *Store) byIDForTest(id int64) *torrentState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}
