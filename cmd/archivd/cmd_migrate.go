package main

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/spf13/cobra"
)

type migrateOptions struct {
	Status bool
	JSON   bool
}

type migrateResult struct {
	From     int32 `json:"from"`
	To       int32 `json:"to"`
	Latest   int32 `json:"latest"`
	UpToDate bool  `json:"up_to_date"`
}

func newMigrateCmd(a *app) *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending catalog schema migrations",
		Long:  "Apply pending catalog schema migrations (safe to run concurrently and repeatedly).\nWith --status, only report the applied and latest versions.",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runMigrate(cmd.Context(), a, o) },
	}
	cmd.Flags().BoolVar(&o.Status, "status", false, "only report the schema version")
	jsonFlag(cmd, &o.JSON)
	return cmd
}

func runMigrate(ctx context.Context, a *app, o migrateOptions) error {
	db, closeFn, err := a.openCatalog(ctx, "migrate", false)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer closeFn()
	before, err := db.Schema(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	after := before
	if !o.Status {
		if after, err = db.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return printMigrate(a, o, before, after)
}

func printMigrate(a *app, o migrateOptions, before, after catalog.SchemaStatus) error {
	r := migrateResult{From: before.Current, To: after.Current, Latest: after.Latest, UpToDate: after.UpToDate()}
	switch {
	case o.JSON:
		return printJSON(a.stdout, r)
	case o.Status && r.UpToDate:
		a.printf("schema version %d: up to date\n", r.To)
	case o.Status:
		a.printf("schema version %d of %d: %d migrations pending; run 'archivd migrate'\n", r.To, r.Latest, r.Latest-r.To)
	case r.From == r.To:
		a.printf("schema version %d: up to date, nothing to do\n", r.To)
	default:
		a.printf("migrated schema from version %d to %d\n", r.From, r.To)
	}
	return nil
}
