package seeder

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/rs/zerolog"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/heartbeat"
	"github.com/archivd/archivd/internal/logging"
	"github.com/archivd/archivd/internal/seeder/store"
)

// Seeder keeps the engine in step with the catalog. Create it with New,
// then call Run once.
type Seeder struct {
	cfg    Config
	db     *catalog.DB
	log    zerolog.Logger
	store  *store.Store
	client *torrent.Client

	mu          sync.Mutex
	running     map[int64]*entry // by torrent id
	unavailable int              // active torrents the catalog marks unavailable
	lastClean   bool             // whether the previous stop of this node was clean
	addErrs     map[int64]string // last error adding a torrent, logged once

	changes    *catalog.Notifier
	ownChanges bool // changes is the seeder's own: Run runs it

	// Reconcile requests, drained by the reconcile loop.
	reqMu   sync.Mutex
	reqIDs  map[int64]struct{}
	reqFull bool
	wake    chan struct{}
	// releases: Release's requests, served by the reconcile loop.
	releases chan releaseReq

	// fetches are the goroutines fetching magnet metadata; Run waits.
	fetches sync.WaitGroup
	// adoptions hash data found on disk (adopt.go), adoptSem bounds how
	// many at once; Run waits for them.
	adoptions                   sync.WaitGroup
	adoptSem                    chan struct{}
	adoptedPieces, adoptedBytes atomic.Int64

	// faults: torrents whose writes fail (disk full...), see writefault.go.
	faults *writeFaults
	// readChecks: torrents a peer read failed on (readcheck.go).
	readChecks *readChecks

	// peerMem: peers whose connection closed, dialled again by MarkBad.
	peerMem *peerMemory
	// sources: who delivered the pieces under repair (RepairSource).
	sources *repairSources

	// lim and maxConns: the limits SetLimits changes at run time.
	lim           limiters
	maxConns      atomic.Int64
	maxConnsTotal atomic.Int64

	// Engine states last written to the catalog, and whether every torrent
	// seeded then (engine_states.go); owned by the stats loop.
	published     map[int64]catalog.EngineState
	allSeeding    bool
	statesFailing bool
	// fullOK: the last full reconcile added every runnable torrent it
	// found (a failed one closes started all the same).
	fullOK   atomic.Bool
	runStart time.Time

	// Large torrents are added by largeLoop (large.go): the queue, the
	// ids queued or being added (under mu), whether an add runs.
	largeQ      chan addPrepared
	largeQueued map[int64]bool
	largeAdding atomic.Bool
	// largeAbandoned counts large adds given up (LargeAddsAbandoned).
	largeAbandoned atomic.Int64
	// engineBeat is the engine probe's heartbeat (nil = none).
	engineBeat *heartbeat.Beat
	// listenAddr is the engine's first listening address, read once: the
	// engine's lock may be held for long by a large add.
	listenAddr string
	// closeStart and closed: the engine's Close runs once (closeEngine).
	closeStart  sync.Once
	closed      chan struct{}
	closeGaveUp atomic.Bool

	// started is closed when the first full reconcile has run (Started).
	started     chan struct{}
	startedOnce sync.Once
	// fullBegun and fullEnded count full reconciles (fullReconciled):
	// a test waits for one that began after its change.
	fullBegun, fullEnded atomic.Int64
}

// New creates the store and the engine (which starts listening at once,
// so ListenAddr is valid) but touches the catalog only in Run.
func New(cfg Config, db *catalog.DB) (*Seeder, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if db == nil {
		return nil, fmt.Errorf("seeder: no catalog given")
	}
	// The engine runs this node's replicas: the handle speaks for it.
	switch db.NodeID() {
	case "":
		db.BindNode(cfg.NodeID)
	case cfg.NodeID:
	default:
		return nil, fmt.Errorf("seeder: catalog handle speaks for node %q, not %q", db.NodeID(), cfg.NodeID)
	}
	log := cfg.Logger.With().Str("component", "seeder").Logger()
	var self *Seeder // the store's write hook reaches the Seeder made below
	st, err := store.New(store.Options{DB: db, Logger: cfg.Logger, CommitInterval: cfg.CommitInterval, MaxPending: cfg.MaxPendingPieces,
		Heartbeats: cfg.Heartbeats, OnWritten: func(id int64) { self.onWritten(id) },
		OnDataDirMissing: func(id int64, err error) {
			self.faults.report(faultEvent{id: id, cause: catalog.CauseDataMissing, err: err})
		},
		OnReadFailed: func(id int64, err error) { self.readChecks.report(id, err) }})
	if err != nil {
		return nil, fmt.Errorf("seeder: %w", err)
	}
	st.SetRecoveryRate(cfg.RecoveryRate)
	st.SetRecoverySendRate(cfg.RecoverySendRate)
	peers, sources := newPeerMemory(), newRepairSources(maxWatchedPieces)
	lim := newLimiters(cfg.UploadRate, cfg.DownloadRate)
	cl, err := newClient(cfg, st.ClientImpl(), lim, peers, sources)
	if err != nil {
		return nil, err
	}
	s := &Seeder{cfg: cfg, db: db, log: log, lim: lim, faults: newWriteFaults(), readChecks: newReadChecks(), store: st, client: cl, peerMem: peers, sources: sources,
		running: map[int64]*entry{}, addErrs: map[int64]string{}, reqIDs: map[int64]struct{}{}, reqFull: true,
		wake: make(chan struct{}, 1), releases: make(chan releaseReq), started: make(chan struct{}),
		adoptSem: make(chan struct{}, runtime.NumCPU()),
		largeQ:   make(chan addPrepared, 16), largeQueued: map[int64]bool{}, closed: make(chan struct{}),
		engineBeat: cfg.Heartbeats.Register("torrent engine", 30*time.Second), listenAddr: firstAddr(cl),
		changes: cfg.Changes}
	s.maxConns.Store(int64(cfg.MaxConnsPerTorrent))
	s.maxConnsTotal.Store(int64(cfg.MaxConnsTotal))
	if s.changes == nil {
		s.changes, s.ownChanges = db.NewNotifier(cfg.Logger), true
	}
	self = s
	return s, nil
}

// Started is closed once the first full reconcile after Run began has
// finished: every runnable torrent of the catalog is in the engine (or
// its error is logged), or the catalog could not be read and the seeder
// runs degraded. The daemon reports itself ready to systemd only then.
func (s *Seeder) Started() <-chan struct{} { return s.started }

// Close releases the engine of a Seeder whose Run was never called (Run
// closes it itself when it returns). Safe to call more than once.
func (s *Seeder) Close() { s.client.Close() }

// ListenAddr is the engine's first listening address ("host:port").
func (s *Seeder) ListenAddr() string { return s.listenAddr }

func firstAddr(cl *torrent.Client) string {
	addrs := cl.ListenAddrs()
	if len(addrs) == 0 {
		return ""
	}
	return addrs[0].String()
}

// Run seeds until ctx is cancelled, then stops cleanly: it writes transfer
// totals and peers, closes the engine, commits every pending piece state
// and only then records the clean stop. It returns an error if the catalog
// cannot be reached at start or the final commit fails.
func (s *Seeder) Run(ctx context.Context) error {
	defer s.closeEngine()
	host, _ := os.Hostname()
	clean, err := s.db.StartNode(ctx, s.cfg.NodeID, host)
	if err != nil {
		return fmt.Errorf("seeder: start: %w", err)
	}
	s.mu.Lock()
	s.lastClean = clean
	s.runStart = time.Now()
	s.mu.Unlock()
	// States a killed run of this node left behind are not true any more.
	if err := s.db.ClearEngineStates(ctx, s.cfg.NodeID); err != nil {
		return fmt.Errorf("seeder: start: %w", err)
	}
	s.log.Info().Bool("last_stop_clean", clean).Str("listen", s.ListenAddr()).Int64("up_ms", logging.UpMs()).Msg("seeder starting")

	// The store outlives the loops: it must commit what they leave behind.
	storeCtx, stopStore := context.WithCancel(context.WithoutCancel(ctx))
	storeDone := make(chan error, 1)
	go func() { storeDone <- s.store.Run(storeCtx) }()

	defer s.changes.Subscribe(s.onChange)()
	loopFns := []func(context.Context){s.reconcileLoop, s.statsLoop, s.engineProbe, s.faultLoop, s.dialNudge, s.readCheckLoop}
	if s.ownChanges {
		loopFns = append(loopFns, func(ctx context.Context) { _ = s.changes.Run(ctx) })
	}
	var loops sync.WaitGroup
	largeDone := make(chan struct{})
	go func() { defer close(largeDone); s.largeLoop(ctx) }()
	for _, loop := range loopFns {
		loops.Add(1)
		go func() { defer loops.Done(); loop(ctx) }()
	}
	<-ctx.Done()
	loops.Wait()
	select {
	case <-largeDone:
	case <-time.After(time.Second):
		// An engine add cannot be cancelled: the stop goes on without it.
		s.log.Warn().Msg("stop: a large torrent is still being added to the engine; not waiting for it")
	}
	s.fetches.Wait()
	s.adoptions.Wait()
	err = s.shutdown(context.WithoutCancel(ctx))
	stopStore()
	if serr := <-storeDone; serr != nil && err == nil && serr != context.Canceled {
		err = fmt.Errorf("seeder: store: %w", serr)
	}
	return err
}

// shutdown is the clean stop: nothing may be recorded clean that is not
// durable, so the node flag is set only after the final flush succeeded.
func (s *Seeder) shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if s.largeAdding.Load() {
		// Reading the counters would wait for the engine's lock.
		s.log.Warn().Msg("stop: engine busy adding a large torrent: transfer totals since the last write are not saved")
	} else if err := s.persistStats(ctx); err != nil {
		s.log.Warn().Err(err).Msg("stop: transfer totals and peers not written")
	}
	s.closeEngine()
	if err := s.store.Flush(ctx); err != nil {
		s.log.Error().Err(err).Msg("final commit of piece states failed: stop recorded unclean")
		return fmt.Errorf("seeder: stop: commit piece states: %w", err)
	}
	if err := s.db.ClearEngineStates(ctx, s.cfg.NodeID); err != nil {
		s.log.Warn().Err(err).Msg("engine states not cleared (the clean stop hides them)")
	}
	if err := s.db.StopNode(ctx, s.cfg.NodeID); err != nil {
		return fmt.Errorf("seeder: stop: %w", err)
	}
	s.log.Info().Msg("seeder stopped cleanly")
	return nil
}
