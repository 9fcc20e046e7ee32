package catalog

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/migrations"
	"github.com/jackc/tern/v2/migrate"
)

const versionTable = "archivd_schema_version"

// SchemaStatus is the applied and the latest known schema version.
type SchemaStatus struct {
	Current int32
	Latest  int32
}

// UpToDate reports whether every migration is applied.
func (s SchemaStatus) UpToDate() bool { return s.Current == s.Latest }

func (db *DB) migrator(ctx context.Context, fn func(*migrate.Migrator) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("catalog: acquire connection for migrations: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), versionTable)
	if err != nil {
		return fmt.Errorf("catalog: prepare migrator: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return fmt.Errorf("catalog: load migrations: %w", err)
	}
	return fn(m)
}

// Migrate applies every pending migration, under tern's advisory lock so
// that concurrent migrators wait for each other.
func (db *DB) Migrate(ctx context.Context) (SchemaStatus, error) {
	var st SchemaStatus
	err := db.migrator(ctx, func(m *migrate.Migrator) error {
		if err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("catalog: migrate: %w", err)
		}
		v, err := m.GetCurrentVersion(ctx)
		st = SchemaStatus{Current: v, Latest: int32(len(m.Migrations))}
		return err
	})
	return st, err
}

// MigrateTo migrates up or down to version (tests of an upgrade roll the
// newest migration back with it).
func (db *DB) MigrateTo(ctx context.Context, version int32) error {
	return db.migrator(ctx, func(m *migrate.Migrator) error {
		if err := m.MigrateTo(ctx, version); err != nil {
			return fmt.Errorf("catalog: migrate to version %d: %w", version, err)
		}
		return nil
	})
}

// Schema reports the applied and latest schema versions.
func (db *DB) Schema(ctx context.Context) (SchemaStatus, error) {
	var st SchemaStatus
	err := db.migrator(ctx, func(m *migrate.Migrator) error {
		v, err := m.GetCurrentVersion(ctx)
		if err != nil {
			return fmt.Errorf("catalog: read schema version: %w", err)
		}
		st = SchemaStatus{Current: v, Latest: int32(len(m.Migrations))}
		return nil
	})
	return st, err
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
