package pgtest

import (
	"context"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestNewGivesIsolatedMigratedDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := New(t), New(t)
	if err := a.CheckSchema(ctx); err != nil {
		t.Fatalf("schema: %v", err)
	}
	Exec(t, a, "INSERT INTO collections (name) VALUES ('x')")
	if n := Int(t, b, "SELECT count(*) FROM collections"); n != 0 {
		t.Fatalf("database b sees %d collections of database a", n)
	}
}
