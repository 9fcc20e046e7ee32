package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/spf13/cobra"
)

type collectionShowOptions struct {
	Name string
	JSON bool
}

func newCollectionShowCmd(a *app) *cobra.Command {
	var o collectionShowOptions
	cmd := newOneArgCmd("show NAME", "Show one collection", "a collection NAME", &o.Name,
		func(ctx context.Context) error { return runCollectionShow(ctx, a, o) })
	jsonFlag(cmd, &o.JSON)
	return cmd
}

func runCollectionShow(ctx context.Context, a *app, o collectionShowOptions) error {
	load := func(db *catalog.DB) (catalog.Collection, error) {
		c, err := db.Collection(ctx, o.Name)
		if err != nil {
			return c, fmt.Errorf("collection show: %w", err)
		}
		return c, nil
	}
	return showOne(ctx, a, "collection show", o.JSON, load, func(c catalog.Collection) {
		a.printf("name:        %s\nstate:       %s\ndescription: %s\ndata root:   %s\nweb seeds:   %s\n",
			c.Name, c.State, orDash(c.Description), collectionDataRoot(a, c), orDash(strings.Join(c.WebSeeds, " ")))
		a.printf("replicas:    min %d, max %d\n", c.ReplicasMin, c.ReplicasMax)
		a.printf("torrents:    %d\nsize:        %s (%d bytes)\nsource:      %s\ncreated:     %s\n",
			c.Torrents, human.Bytes(c.TotalBytes), c.TotalBytes, c.Source, c.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	})
}
