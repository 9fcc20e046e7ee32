package main

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/spf13/cobra"
)

type collectionListOptions struct {
	JSON bool
}

func newCollectionListCmd(a *app) *cobra.Command {
	var o collectionListOptions
	return newListingCmd("List collections", "no arguments", &o.JSON,
		func(ctx context.Context) error { return runCollectionList(ctx, a, o) })
}

func runCollectionList(ctx context.Context, a *app, o collectionListOptions) error {
	return a.withCatalog(ctx, "collection list", func(db *catalog.DB) error {
		cs, err := db.Collections(ctx)
		if err != nil {
			return fmt.Errorf("collection list: %w", err)
		}
		return printList(a.stdout, o.JSON, cs, "NAME\tSTATE\tTORRENTS\tSIZE\tDATA ROOT\tDESCRIPTION", func(c catalog.Collection) string {
			return fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s", c.Name, c.State, c.Torrents, human.Bytes(c.TotalBytes),
				collectionDataRoot(a, c), orDash(c.Description))
		})
	})
}
