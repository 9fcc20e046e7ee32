// Package rawsql runs SQL that no catalog method offers, for tests only:
// setting up states the code never produces (a trigger refusing a write,
// a schema version rolled back, rows aged by two days) and counting rows a
// test expects. It is the one package besides internal/catalog allowed to
// import pgx (TestOnlyCatalogImportsPgx, internal/catalog/imports_test.go):
// production code goes through catalog's methods, and giving catalog an
// exported "run this SQL" door for tests would open it to everyone.
// internal/pgserver's own tests use it directly (they cannot import
// internal/pgtest, which imports pgserver).
package rawsql

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Exec runs sql with args on the database at url, failing t on error.
func Exec(t testing.TB, url, sql string, args ...any) {
	t.Helper()
	with(t, url, func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, sql, args...)
		return err
	}, sql)
}

// Int returns the single integer sql yields (a count, an id).
func Int(t testing.TB, url, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	with(t, url, func(ctx context.Context, c *pgx.Conn) error { return c.QueryRow(ctx, sql, args...).Scan(&n) }, sql)
	return n
}

// String returns the single text value sql yields ("" for NULL).
func String(t testing.TB, url, sql string, args ...any) string {
	t.Helper()
	var v *string
	with(t, url, func(ctx context.Context, c *pgx.Conn) error { return c.QueryRow(ctx, sql, args...).Scan(&v) }, sql)
	if v == nil {
		return ""
	}
	return *v
}

// Ints returns the first column of every row of sql, as integers.
func Ints(t testing.TB, url, sql string, args ...any) []int64 {
	t.Helper()
	var out []int64
	with(t, url, func(ctx context.Context, c *pgx.Conn) error {
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	}, sql)
	return out
}

func with(t testing.TB, url string, fn func(context.Context, *pgx.Conn) error, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("rawsql: connect: %v", err)
	}
	defer c.Close(ctx)
	if err := fn(ctx, c); err != nil {
		t.Fatalf("rawsql: %s: %v", sql, err)
	}
}

// Hold runs sql in a transaction on a connection of its own and keeps the
// transaction open (and its locks held) until release is called or t
// ends: tests make calls wait on a lock. release rolls it back.
func Hold(t testing.TB, url, sql string, args ...any) (release func()) {
	t.Helper()
	end := hold(t, url, sql, args...)
	t.Cleanup(func() { end(false) })
	return func() { end(false) }
}

// HoldCommit runs sql in a transaction kept open until commit is called,
// which commits it (the end of t rolls it back if commit was not called).
func HoldCommit(t testing.TB, url, sql string, args ...any) (commit func()) {
	t.Helper()
	end := hold(t, url, sql, args...)
	t.Cleanup(func() { end(false) })
	return func() { end(true) }
}

// hold opens the transaction of Hold and HoldCommit; the first call of
// end commits or rolls it back and closes the connection, later calls do
// nothing.
func hold(t testing.TB, url, sql string, args ...any) (end func(commit bool)) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("rawsql: connect: %v", err)
	}
	tx, err := c.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, sql, args...)
	}
	if err != nil {
		c.Close(ctx)
		t.Fatalf("rawsql: %s: %v", sql, err)
	}
	var once sync.Once
	return func(commit bool) {
		once.Do(func() {
			if commit {
				if err := tx.Commit(ctx); err != nil {
					t.Errorf("rawsql: commit %s: %v", sql, err)
				}
			} else {
				_ = tx.Rollback(ctx)
			}
			_ = c.Close(ctx)
		})
	}
}
