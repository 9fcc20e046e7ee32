package catalog_test

import (
	"context"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/migrations"
)

// TestEveryMigrationRollsBackAndForward: each migration has a down step
// that undoes it, so `migrate` to an older version (and tests of an
// upgrade, which roll back first) work for every version, and applying
// them all again ends on the latest schema.
func TestEveryMigrationRollsBackAndForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	latest := int32(migrations.Latest())
	for v := latest - 1; v >= 0; v-- {
		if err := db.MigrateTo(ctx, v); err != nil {
			t.Fatalf("roll back to version %d: %v", v, err)
		}
	}
	st, err := db.Migrate(ctx)
	if err != nil {
		t.Fatalf("migrate again from 0: %v", err)
	}
	if st.Current != latest || !st.UpToDate() {
		t.Fatalf("after migrating again: %+v, want version %d", st, latest)
	}
}

// Two migrators at once from version 0 (as two `archivd migrate` through
// a pooler): both succeed, each migration is applied once, and no
// session-level advisory lock is left behind (the lock is transaction
// scoped, so a transaction-mode PgBouncer can carry it).
func TestConcurrentMigratorsApplyEachStepOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := pgtest.Open(t, url), pgtest.Open(t, url)
	if err := a.MigrateTo(ctx, 0); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, db := range []*catalog.DB{a, b} {
		go func() { _, err := db.Migrate(ctx); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	st, err := b.Schema(ctx)
	if err != nil || !st.UpToDate() || st.Current != int32(migrations.Latest()) {
		t.Fatalf("schema after concurrent migrations: %+v %v", st, err)
	}
	if n := pgtest.Int(t, a, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); n != 0 {
		t.Fatalf("%d advisory locks held after migrating", n)
	}
}
