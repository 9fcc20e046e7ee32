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
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List collections",
		Args:    exactArgs(0, "no arguments"),
		RunE:    func(cmd *cobra.Command, _ []string) error { return runCollectionList(cmd.Context(), a, o) },
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return cmd
}

func runCollectionList(ctx context.Context, a *app, o collectionListOptions) error {
	return a.withCatalog(ctx, "collection list", func(db *catalog.DB) error {
		cs, err := db.Collections(ctx)
		if err != nil {
			return fmt.Errorf("collection list: %w", err)
		}
		if o.JSON {
			if cs == nil {
				cs = []catalog.Collection{}
			}
			return printJSON(a.stdout, cs)
		}
		rows := make([]string, len(cs))
		for i, c := range cs {
			rows[i] = fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s", c.Name, c.State, c.Torrents, human.Bytes(c.TotalBytes),
				collectionDataRoot(a, c), orDash(c.Description))
		}
		return table(a.stdout, "NAME\tSTATE\tTORRENTS\tSIZE\tDATA ROOT\tDESCRIPTION", rows)
	})
}
