package health

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/verify"
)

// Config is what the checks judge against. Zero values take the defaults.
type Config struct {
	// Verify is the daemon's verify config: its interval (and the
	// collections' overrides) decides what is overdue, its schedules
	// when the next window opens.
	Verify verify.Config
	// DataDir is the daemon's data_dir, always checked for space.
	DataDir string
	// LowSpace: a file system holding data roots with less free space
	// than this raises DATA_ROOT_LOW_SPACE (WARN); nil = 10%.
	LowSpace *config.FreeSpace
	// FullSpace: less than this raises DISK_FULL (ERR); nil = 1%.
	FullSpace *config.FreeSpace
	// CLI is how the printed commands start: "archivd" plus the --config
	// flag the operator uses, so that they work as printed.
	CLI string
	// Fleet is the planner's policy: a node down past Fleet.DownOut and not
	// out raises FLEET_OUT_HELD.
	Fleet fleet.Policy
	// Now is the clock; nil = time.Now.
	Now func() time.Time
}

// Evaluator evaluates the checks over one catalog.
type Evaluator struct {
	db  *catalog.DB
	err error // why db is nil
	cfg atomic.Pointer[Config]
	// poolSaturatedFor: see the constant (tests lengthen it).
	poolSaturatedFor time.Duration
}

// New returns an evaluator over db. db may be nil when the catalog could
// not be opened: openErr then says why, and CATALOG_DEGRADED says so.
func New(db *catalog.DB, openErr error, cfg Config) *Evaluator {
	if db == nil && openErr == nil {
		openErr = fmt.Errorf("no catalog")
	}
	e := &Evaluator{db: db, err: openErr, poolSaturatedFor: poolSaturatedFor}
	e.SetConfig(cfg)
	return e
}

// SetConfig replaces the configuration (a reload); evaluations in
// progress finish with the old one.
func (e *Evaluator) SetConfig(cfg Config) {
	if cfg.LowSpace == nil {
		cfg.LowSpace = &config.FreeSpace{Percent: 10, IsPercent: true}
	}
	if cfg.FullSpace == nil {
		cfg.FullSpace = &config.FreeSpace{Percent: 1, IsPercent: true}
	}
	if cfg.Verify.Interval == 0 {
		cfg.Verify.Interval = 720 * time.Hour
	}
	if cfg.CLI == "" {
		cfg.CLI = "archivd"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e.cfg.Store(&cfg)
}

// config is the configuration in force.
func (e *Evaluator) config() *Config { return e.cfg.Load() }

func (e *Evaluator) now() time.Time { return e.config().Now() }

// cmd renders an archivd command line.
func (e *Evaluator) cmd(args ...string) string {
	return e.config().CLI + " " + strings.Join(args, " ")
}

func (e *Evaluator) catalogErr(err error) Check {
	return Check{Code: CatalogDegraded, Severity: Err, Count: 1, Summary: "catalog query failed: " + oneLine(err),
		Command: e.cmd("config", "show"), Hint: "check database.url and the PostgreSQL server's log"}
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// checkCatalog raises CATALOG_DEGRADED when the catalog does not answer
// (ERR), its schema is not current (ERR) or every pooled connection is in
// use (WARN). It reports whether the other checks can read the catalog.
func (e *Evaluator) checkCatalog(ctx context.Context, r *Report) bool {
	if e.db == nil {
		r.add(Check{Code: CatalogDegraded, Severity: Err, Count: 1, Summary: "catalog unreachable: " + oneLine(e.err),
			Command: e.cmd("config", "show"), Hint: "check database.url and that PostgreSQL runs"})
		return false
	}
	if st, full := e.poolFull(ctx); full {
		// The other checks would queue behind the pool and add to its load.
		r.add(Check{Code: CatalogDegraded, Severity: Warn, Count: 1,
			Summary: fmt.Sprintf("all %d catalog connections of this process in use; %d waits for one so far", st.Max, st.EmptyAcquire),
			Command: e.cmd("config", "show"), Hint: "raise pool_max_conns in database.url, or look for slow queries in pg_stat_activity"})
		return false
	}
	if err := e.db.Ping(ctx); err != nil {
		r.add(Check{Code: CatalogDegraded, Severity: Err, Count: 1, Summary: "catalog unreachable: " + oneLine(err),
			Command: e.cmd("config", "show"), Hint: "check database.url and that PostgreSQL runs"})
		return false
	}
	if err := e.db.CheckSchema(ctx); err != nil {
		r.add(Check{Code: CatalogDegraded, Severity: Err, Count: 1, Summary: oneLine(err),
			Command: e.cmd("migrate"), Hint: "apply the schema migrations, then restart 'archivd serve'"})
		return false
	}
	return true
}

// poolSaturatedFor is how long every pooled connection must stay in use
// before CATALOG_DEGRADED says so: at a start, or in a burst, all of them
// are busy for a moment (a report right after `archivd serve` started
// said WARN for that), which is the pool doing its work.
const (
	poolSaturatedFor  = 200 * time.Millisecond
	poolSaturatedPoll = 20 * time.Millisecond
)

// poolFull reports whether every pooled connection stayed in use for
// poolSaturatedFor (or until ctx ended), and the last sample.
func (e *Evaluator) poolFull(ctx context.Context) (catalog.PoolStats, bool) {
	end := time.Now().Add(e.poolSaturatedFor)
	for {
		st := e.db.PoolStats()
		if st.Max <= 0 || st.Acquired < st.Max {
			return st, false
		}
		if !time.Now().Before(end) {
			return st, true
		}
		select {
		case <-ctx.Done():
			return st, true
		case <-time.After(poolSaturatedPoll):
		}
	}
}

// NextWindow is when the next scheduled scrub window opens after now.
func (e *Evaluator) NextWindow(now time.Time) (time.Time, error) {
	return verify.NextWindow(e.config().Verify, now)
}
