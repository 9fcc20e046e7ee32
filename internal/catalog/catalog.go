// Package catalog is archivd's source of truth in PostgreSQL: collections,
// torrents, files, piece state, verification runs and findings. All SQL
// that touches these tables lives here, next to the types it fills.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned (wrapped) when a named row does not exist.
var ErrNotFound = errors.New("not found")

// ErrTorrentGone is returned (wrapped) when a write names a torrent that
// has been deleted from the catalog meanwhile.
var ErrTorrentGone = errors.New("torrent no longer in the catalog")

// ErrExists is returned (wrapped) when a unique name or infohash is taken.
var ErrExists = errors.New("already exists")

// DB is the catalog: a pgx pool plus the queries. The pool stays inside:
// no other package speaks to PostgreSQL.
//
// A handle knows the node it speaks for (BindNode): per-replica state
// (piece state, availability, data location, transfer totals, verification
// progress, findings, engine state) is read and written for that node's
// replicas. An unbound handle speaks for the unclaimed node "", whose rows
// the first node that starts claims (StartNode).
type DB struct {
	pool *pgxpool.Pool
	// session is the connection config of the Notifier's LISTEN session
	// (Options.SessionURL, else the pool's).
	session *pgx.ConnConfig
	// poll > 0: the Notifier polls the change log instead of LISTENing.
	poll time.Duration
	node atomic.Pointer[string]
}

// PoolMode names what sits in front of Options.URL.
type PoolMode string

const (
	// PoolSession: PostgreSQL itself, or a pooler in session mode: the
	// pool caches prepared statements per connection (pgx's default).
	PoolSession PoolMode = "session"
	// PoolTransaction: a pooler in transaction mode (PgBouncer
	// pool_mode=transaction): consecutive transactions of one pgx
	// connection may reach different server sessions, so no named
	// prepared statement is kept (pgx QueryExecModeCacheDescribe: an
	// unnamed statement per query, only the descriptions cached) and no
	// session state is used.
	PoolTransaction PoolMode = "transaction"
)

// Options says how to reach the catalog.
type Options struct {
	// URL serves every query; with several hosts and
	// target_session_attrs=read-write each new connection finds the
	// primary, so the catalog follows a failover without a restart.
	URL string
	// SessionURL is a direct connection (no pooler in transaction mode)
	// for the Notifier's LISTEN session; "" = URL.
	SessionURL string
	// PoolMode of the pooler in front of URL; "" = PoolSession.
	PoolMode PoolMode
	// Poll > 0: the Notifier reads the change log every Poll instead of
	// LISTENing (for setups where LISTEN is not available).
	Poll time.Duration
}

// BindNode makes the handle speak for node id (the daemon's and the CLI's
// config node_id). The seeder and verification bind the handle they are
// given to their node.
func (db *DB) BindNode(id string) { db.node.Store(&id) }

// ForNode returns a handle on the same pool that speaks for node id.
func (db *DB) ForNode(id string) *DB {
	n := &DB{pool: db.pool, session: db.session, poll: db.poll}
	n.BindNode(id)
	return n
}

// NodeID is the node this handle speaks for ("" when unbound).
func (db *DB) NodeID() string {
	if p := db.node.Load(); p != nil {
		return *p
	}
	return ""
}

// Open connects to the catalog at url. It does not check the schema: call
// CheckSchema (serve) or Migrate (migrate).
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, Options{URL: url})
}

// OpenWith connects to the catalog as o says.
func OpenWith(ctx context.Context, o Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("catalog: parse database url: %w", redactErr(err))
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "archivd"
	switch o.PoolMode {
	case "", PoolSession:
		jitOff(cfg.ConnConfig.RuntimeParams)
	case PoolTransaction:
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	default:
		return nil, fmt.Errorf("catalog: pool mode %q is not session or transaction", o.PoolMode)
	}
	session := cfg.ConnConfig.Copy()
	if o.SessionURL != "" {
		if session, err = pgx.ParseConfig(o.SessionURL); err != nil {
			return nil, fmt.Errorf("catalog: parse database session url: %w", redactErr(err))
		}
		session.RuntimeParams["application_name"] = "archivd"
		jitOff(session.RuntimeParams)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("catalog: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	return &DB{pool: pool, session: session, poll: o.Poll}, nil
}

// jitOff turns PostgreSQL's JIT compilation off for archivd's sessions,
// unless the URL sets jit itself. The fleet planner's queries cost more
// than jit_above_cost by the planner's estimate on any catalog, and
// compiling each cost 0.4-0.7 s of the server's CPU on every execution:
// a node's planner pass every 10 s kept a fifth of a core busy on a
// catalog of one torrent (docs/BENCHMARKS.md, "PostgreSQL's JIT"). A
// pooler in transaction mode (PgBouncer) refuses unknown startup
// parameters: there the operator sets jit = off on the database
// (docs/OPERATIONS.md).
func jitOff(params map[string]string) {
	if _, set := params["jit"]; !set {
		params["jit"] = "off"
	}
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// redactErr drops the connection string pgx may quote in parse errors.
func redactErr(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid connection string")
	}
	return err
}

// isForeignKeyViolation reports a foreign-key error (SQLSTATE 23503).
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// isUniqueViolation reports a unique-constraint error (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}
