package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Databases on a server, for the embedded cluster (internal/pgserver) and
// test databases (internal/pgtest): adminURL names a database to connect
// to (postgres), from which name is created or dropped.

// EnsureDatabase creates database name unless it exists.
func EnsureDatabase(ctx context.Context, adminURL, name string) error {
	return withAdmin(ctx, adminURL, func(conn *pgx.Conn) error {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
			return fmt.Errorf("catalog: look up database %s: %w", name, err)
		}
		if exists {
			return nil
		}
		return createDatabase(ctx, conn, name, "")
	})
}

// CreateDatabase creates database name as a copy of template ("" = the
// server's default template).
func CreateDatabase(ctx context.Context, adminURL, name, template string) error {
	return withAdmin(ctx, adminURL, func(conn *pgx.Conn) error { return createDatabase(ctx, conn, name, template) })
}

// DropDatabase drops database name if it exists, closing its sessions.
func DropDatabase(ctx context.Context, adminURL, name string) error {
	return withAdmin(ctx, adminURL, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("catalog: drop database %s: %w", name, err)
		}
		return nil
	})
}

func createDatabase(ctx context.Context, conn *pgx.Conn, name, template string) error {
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		q += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("catalog: create database %s: %w", name, err)
	}
	return nil
}

func withAdmin(ctx context.Context, adminURL string, fn func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("catalog: connect to create or drop a database: %w", redactErr(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}
