// Package catalog is archivd's source of truth in PostgreSQL: collections,
// torrents, files, piece state, verification runs and findings. All SQL
// that touches these tables lives here, next to the types it fills.
package catalog

import (
	"context"
	"errors"
	"fmt"

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
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the catalog at url. It does not check the schema: call
// CheckSchema (serve) or Migrate (migrate).
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("catalog: parse database url: %w", redactErr(err))
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "archivd"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("catalog: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	return &DB{pool: pool}, nil
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
