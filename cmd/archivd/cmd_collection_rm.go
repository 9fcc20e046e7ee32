package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/spf13/cobra"
)

type collectionRmOptions struct {
	Name  string
	Force bool
}

func newCollectionRmCmd(a *app) *cobra.Command {
	var o collectionRmOptions
	cmd := newOneArgCmd("rm NAME", "Remove a collection (with --force also its torrents from the catalog; data is kept)", "a collection NAME", &o.Name,
		func(ctx context.Context) error { return runCollectionRm(ctx, a, o) })
	cmd.Flags().BoolVar(&o.Force, "force", false, "also remove its torrents from the catalog (their data stays on disk)")
	return cmd
}

func runCollectionRm(ctx context.Context, a *app, o collectionRmOptions) error {
	return a.withCatalog(ctx, "collection rm", func(db *catalog.DB) error {
		if !o.Force {
			if err := db.DeleteCollection(ctx, o.Name); err != nil {
				if errors.Is(err, catalog.ErrNotEmpty) {
					return fmt.Errorf("collection rm %s: %w, or use --force (their data stays on disk)", o.Name, err)
				}
				return fmt.Errorf("collection rm %s: %w", o.Name, err)
			}
			a.printf("removed collection %s\n", o.Name)
			return nil
		}
		n, err := db.DeleteCollectionWithTorrents(ctx, o.Name)
		if err != nil {
			return fmt.Errorf("collection rm %s: %w", o.Name, err)
		}
		a.printf("removed collection %s and %d torrents from the catalog (data kept on disk)\n", o.Name, n)
		return nil
	})
}
