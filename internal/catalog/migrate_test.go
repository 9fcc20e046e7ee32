package catalog_test

import (
	"context"
	"testing"

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
