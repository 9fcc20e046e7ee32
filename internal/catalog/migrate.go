package catalog

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/archivd/archivd/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

const versionTable = "archivd_schema_version"

// migrateLock is the advisory lock key that serialises migrators: tern's
// own (migrate.lockNum), so an older archivd migrating with tern's session
// lock and this one wait for each other. Here it is taken with
// pg_advisory_xact_lock inside each migration's transaction: no session
// state, so `archivd migrate` works through a transaction-mode PgBouncer.
const migrateLock = int64(9628173550095224)

// disableTx is tern's marker for a migration that must run outside a
// transaction; archivd's migrations never use it (each runs in the
// transaction that holds the lock).
var disableTx = regexp.MustCompile(`(?m)^---- tern: disable-tx ----$`)

// SchemaStatus is the applied and the latest known schema version.
type SchemaStatus struct {
	Current int32
	Latest  int32
}

// UpToDate reports whether every migration is applied.
func (s SchemaStatus) UpToDate() bool { return s.Current == s.Latest }

// loadMigrations parses the embedded migrations (tern's format and
// numbering; tern only parses here, it does not run them).
func loadMigrations() ([]*migrate.Migration, error) {
	m, err := migrate.NewMigrator(context.Background(), nil, versionTable)
	if err != nil {
		return nil, fmt.Errorf("catalog: prepare migrations: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return nil, fmt.Errorf("catalog: load migrations: %w", err)
	}
	return m.Migrations, nil
}

// Migrate applies every pending migration; concurrent migrators wait for
// each other (see migrateLock).
func (db *DB) Migrate(ctx context.Context) (SchemaStatus, error) {
	ms, err := loadMigrations()
	if err != nil {
		return SchemaStatus{}, err
	}
	latest := int32(len(ms))
	if err := db.migrateTo(ctx, ms, latest); err != nil {
		return SchemaStatus{}, err
	}
	return db.Schema(ctx)
}

// MigrateTo migrates up or down to version (tests of an upgrade roll the
// newest migration back with it).
func (db *DB) MigrateTo(ctx context.Context, version int32) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if version < 0 || version > int32(len(ms)) {
		return fmt.Errorf("catalog: migrate to version %d: not between 0 and %d", version, len(ms))
	}
	return db.migrateTo(ctx, ms, version)
}

// migrateTo takes one step per transaction, each under the transaction-
// scoped lock, reading the version afresh under it: a concurrent migrator
// that went first is seen, not repeated.
func (db *DB) migrateTo(ctx context.Context, ms []*migrate.Migration, target int32) error {
	if err := db.ensureVersionTable(ctx); err != nil {
		return err
	}
	for {
		done := false
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
				return fmt.Errorf("catalog: take the migration lock: %w", err)
			}
			var cur int32
			if err := tx.QueryRow(ctx, `SELECT version FROM `+versionTable).Scan(&cur); err != nil {
				return fmt.Errorf("catalog: read schema version: %w", err)
			}
			if cur > int32(len(ms)) {
				return fmt.Errorf("catalog: schema version %d is newer than this archivd knows (%d): upgrade archivd", cur, len(ms))
			}
			if cur == target {
				done = true
				return nil
			}
			return migrateStep(ctx, tx, ms, cur, target)
		})
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the one migration that brings cur a step towards target.
func migrateStep(ctx context.Context, tx pgx.Tx, ms []*migrate.Migration, cur, target int32) error {
	var m *migrate.Migration
	var sql, dir string
	var next int32
	if target > cur {
		m, next, dir = ms[cur], cur+1, "up"
		sql = m.UpSQL
	} else {
		m, next, dir = ms[cur-1], cur-1, "down"
		sql = m.DownSQL
		if sql == "" {
			return fmt.Errorf("catalog: migration %d %s has no down step", m.Sequence, m.Name)
		}
	}
	if disableTx.MatchString(sql) {
		return fmt.Errorf("catalog: migration %d %s (%s) asks to run outside a transaction: not supported", m.Sequence, m.Name, dir)
	}
	// No arguments: pgx sends it with the simple protocol, all statements
	// of the file in one go.
	if _, err := tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("catalog: migration %d %s (%s): %w", m.Sequence, m.Name, dir, err)
	}
	// A migration that SET something must not leave it on a pooled session.
	if _, err := tx.Exec(ctx, `RESET ALL`); err != nil {
		return fmt.Errorf("catalog: migration %d: reset settings: %w", m.Sequence, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+versionTable+` SET version = $1`, next); err != nil {
		return fmt.Errorf("catalog: migration %d: record version %d: %w", m.Sequence, next, err)
	}
	return nil
}

// ensureVersionTable creates tern's version table (one row, version 0)
// unless it exists, under the migration lock.
func (db *DB) ensureVersionTable(ctx context.Context) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return fmt.Errorf("catalog: take the migration lock: %w", err)
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+versionTable+` (version int4 NOT NULL);
			INSERT INTO `+versionTable+` (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM `+versionTable+`)`)
		if err != nil {
			return fmt.Errorf("catalog: create %s: %w", versionTable, err)
		}
		return nil
	})
}

// Schema reports the applied and latest schema versions (0 applied when
// the version table does not exist yet). It takes no lock.
func (db *DB) Schema(ctx context.Context) (SchemaStatus, error) {
	ms, err := loadMigrations()
	if err != nil {
		return SchemaStatus{}, err
	}
	st := SchemaStatus{Latest: int32(len(ms))}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, versionTable).Scan(&exists); err != nil {
		return st, fmt.Errorf("catalog: read schema version: %w", err)
	}
	if !exists {
		return st, nil
	}
	err = db.pool.QueryRow(ctx, `SELECT version FROM `+versionTable).Scan(&st.Current)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("catalog: read schema version: %w", err)
	}
	return st, nil
}

// CheckSchema returns an error unless the schema is current.
func (db *DB) CheckSchema(ctx context.Context) error {
	st, err := db.Schema(ctx)
	if err != nil {
		return err
	}
	if st.Current > st.Latest {
		return fmt.Errorf("catalog: schema version %d is newer than this archivd knows (%d): upgrade archivd", st.Current, st.Latest)
	}
	if !st.UpToDate() {
		return fmt.Errorf("catalog: schema version %d is outdated (latest %d): run 'archivd migrate' or set database.auto_migrate: true", st.Current, st.Latest)
	}
	return nil
}
