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
	if _, err := a.Pool.Exec(ctx, "INSERT INTO collections (name) VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.Pool.QueryRow(ctx, "SELECT count(*) FROM collections").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database b sees %d collections of database a", n)
	}
}
