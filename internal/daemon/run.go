package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/catalogopen"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/health"
	"github.com/archivd/archivd/internal/heartbeat"
	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/logging"
	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/seeder"
	"github.com/archivd/archivd/internal/statelock"
	"github.com/archivd/archivd/internal/verify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// Daemon is the running serve process; tests reach its parts through it.
type Daemon struct {
	DB     *catalog.DB
	Seeder *seeder.Seeder
	HTTP   *httpapi.Server // nil when http.listen is ""
	Verify *verify.Service // the service started with; a reload may replace it (runVerify)
	live   *liveSeeder
	// health evaluates the named checks (status page, metrics, log);
	// cli starts the commands they print.
	health *health.Evaluator
	cli    string
	// embedded is the embedded cluster, supervised while serving; nil
	// with database.url.
	embedded *pgserver.Server
	// beats are the heartbeats of the daemon's loops and engine: the
	// systemd watchdog is pinged while they beat.
	beats *heartbeat.Monitor
	cfg   atomic.Pointer[config.Config]
	log   zerolog.Logger

	logLevel   *logging.Level // nil: the level does not change on reload
	observer   verify.Observer
	verifyNext chan *verify.Service // reload -> runVerify
	speedWake  chan struct{}        // reload -> speedLoop
	intakeWake chan struct{}        // reload -> intakeLoop
	blocklist  *seeder.Blocklist    // network.blocklist_file, re-read on reload
	// changes is the one catalog change listener, shared by seeder and verify.
	changes *catalog.Notifier
}

// Config is the configuration in force (replaced by a successful reload).
func (d *Daemon) Config() *config.Config { return d.cfg.Load() }

// Run serves until ctx is cancelled (SIGTERM/SIGINT in the CLI), then stops
// every part cleanly: the seeder commits its piece states and records the
// clean stop before the catalog (and an embedded cluster) is closed.
func Run(ctx context.Context, o Options) error {
	cfg, log := o.Config, o.Logger
	unlock, err := statelock.Take(cfg.StateDir)
	if err != nil {
		return err
	}
	defer unlock()
	cat, err := catalogopen.Open(ctx, catalogopen.Options{Config: cfg, Logger: log, Create: true, Command: "serve"})
	if err != nil {
		return err
	}
	defer cat.Close()
	if cat.Embedded != nil {
		log.Info().Str("dir", cat.Embedded.Dir()).Bool("reused", !cat.Embedded.Started).Msg("embedded postgres running")
	}
	db := cat.DB
	if err := prepareSchema(ctx, db, cfg, log); err != nil {
		return err
	}
	d := &Daemon{DB: db, embedded: cat.Embedded, log: log, logLevel: o.LogLevel,
		verifyNext: make(chan *verify.Service), speedWake: make(chan struct{}, 1),
		intakeWake: make(chan struct{}, 1), beats: heartbeat.New()}
	d.cfg.Store(cfg)
	if err := reconcileCollections(ctx, db, cfg, log); err != nil {
		return err
	}
	d.changes = db.NewNotifier(log)
	scfg, err := d.seederConfig(cfg)
	if err != nil {
		return err
	}
	scfg.Heartbeats = d.beats
	if o.LogLevel != nil {
		scfg.LogLevel = o.LogLevel.Get
	}
	scfg.Changes = d.changes
	if d.Seeder, err = seeder.New(scfg, db); err != nil {
		return err
	}
	d.live = &liveSeeder{s: d.Seeder, db: db}
	counters := httpapi.NewNodeCounters(prometheus.NewRegistry(), cfg.ResolvedNodeID())
	d.observer = countersObserver{counters}
	if d.Verify, err = d.newVerify(cfg); err != nil {
		return err
	}
	d.cli = o.CLI
	d.health = health.New(db, nil, HealthConfig(cfg, d.cli))
	if cfg.HTTP.Listen != "" {
		d.HTTP, err = httpapi.New(httpapi.Options{Listen: cfg.HTTP.Listen, TokenFile: cfg.HTTP.TokenFile,
			TLSCert: cfg.HTTP.TLSCert, TLSKey: cfg.HTTP.TLSKey, PerTorrentMetrics: cfg.HTTP.PerTorrentMetrics,
			DebugPprof: cfg.HTTP.DebugPprof,
			DB:         db, Live: d.live, Version: o.Version, Logger: log, Counters: counters,
			Health: d.health, NodeID: cfg.ResolvedNodeID(),
			BalanceMargin: func() float64 { return d.Config().Fleet.BalanceMargin },
			StallAfter:    func() time.Duration { return d.Config().Fleet.RecoveryStallAfter }})
		if err != nil {
			return err
		}
	}
	return d.run(ctx, o)
}

func (d *Daemon) run(ctx context.Context, o Options) error {
	g, gctx := errgroup.WithContext(ctx)
	endGCBudget, budgetEnded := startGCBudget(gctx, d.log) // until the first full reconcile has added the catalog's torrents
	defer endGCBudget()
	g.Go(func() error { runGCFloor(gctx, budgetEnded, gcFloorSize()); return nil })
	g.Go(func() error { return d.changes.Run(gctx) })
	ret := &retention{db: d.DB, cfg: func() config.RetentionConfig { return d.Config().Retention }, log: d.log, now: time.Now}
	g.Go(func() error { ret.run(gctx); return nil })
	g.Go(func() error {
		d.live.running.Store(true)
		defer d.live.running.Store(false)
		return d.Seeder.Run(gctx)
	})
	g.Go(func() error { return d.runVerify(gctx) })
	g.Go(func() error { d.speedLoop(gctx, d.speedWake); return nil })
	g.Go(func() error { d.intakeLoop(gctx, d.intakeWake); return nil })
	g.Go(func() error { d.healthLog(gctx, d.health); return nil })
	if d.HTTP != nil {
		g.Go(func() error { return d.HTTP.Run(gctx) })
		d.log.Info().Str("addr", d.HTTP.Addr()).Msg("http listening")
	}
	// Registered before READY so that no SIGHUP can kill the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	g.Go(func() error { d.reloadLoop(gctx, hup, o.Reload); return nil })
	g.Go(func() error { d.watchdog(gctx); return nil })
	if d.embedded != nil {
		beat := d.beats.Register("embedded postgres supervisor", 3*time.Minute) // a restart takes up to a minute
		g.Go(func() error { d.embedded.Supervise(gctx, 0, d.log, beat); return nil })
	}
	// READY once the catalog's torrents are in the engine, so that
	// "systemctl start" returns with everything seeding.
	select {
	case <-d.Seeder.Started():
		endGCBudget()
		// The seeder recorded the node's start: from now on it is live.
		tried := make(chan struct{})
		g.Go(func() error {
			d.heartbeat(gctx, d.Config().ResolvedNodeID(), o.Version, catalog.NodeHeartbeat, tried)
			return nil
		})
		g.Go(func() error { d.planner().Run(gctx); return nil })
		// The start recorded the node seen; the first reconcile may have
		// taken longer than catalog.NodeUpTTL since (adding large or many
		// torrents): READY waits for the first beat to be tried, so that
		// `archivd verify --wait` right after it finds the node live. A
		// catalog that does not answer delays READY by beatTimeout at most.
		select {
		case <-tried:
		case <-time.After(beatTimeout):
		case <-gctx.Done():
		}
		if gctx.Err() != nil {
			break // stopped while the first beat was tried
		}
		notify("READY=1")
		d.log.Info().Str("version", o.Version).Str("listen", d.Seeder.ListenAddr()).Msg("archivd serving")
		if o.Ready != nil {
			o.Ready(d)
		}
	case <-gctx.Done(): // a part failed or the daemon is stopped while starting
	}
	err := g.Wait()
	notify("STOPPING=1")
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil // stopped while a part was still starting
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	d.log.Info().Msg("archivd stopped")
	return nil
}
