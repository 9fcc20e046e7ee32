package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/importer"
	"github.com/spf13/cobra"
)

type collectionCreateOptions struct {
	Name        string
	Description string
	DataRoot    string
	WebSeeds    []string
	Replicas    replicaFlags
}

func newCollectionCreateCmd(a *app) *cobra.Command {
	var o collectionCreateOptions
	cmd := newOneArgCmd("create NAME", "Create a collection", "a collection NAME", &o.Name,
		func(ctx context.Context) error { return runCollectionCreate(ctx, a, o) })
	f := cmd.Flags()
	f.StringVar(&o.Description, "description", "", "free text")
	f.StringVar(&o.DataRoot, "data-root", "", "where torrents added to it store their data (default data_dir/NAME)")
	f.StringArrayVar(&o.WebSeeds, "web-seed", nil, "HTTP web seed URL for its torrents (repeatable)")
	o.Replicas.add(cmd)
	return cmd
}

func (o *collectionCreateOptions) validate() error {
	if err := checkCollectionName(o.Name); err != nil {
		return err
	}
	if o.DataRoot != "" {
		abs, err := filepath.Abs(o.DataRoot)
		if err != nil {
			return usageErrorf("--data-root %q: %v", o.DataRoot, err)
		}
		o.DataRoot = abs
	}
	return checkHTTPURLs("--web-seed", o.WebSeeds)
}

func runCollectionCreate(ctx context.Context, a *app, o collectionCreateOptions) error {
	if err := o.validate(); err != nil {
		return fmt.Errorf("collection create: %w", err)
	}
	p, err := o.Replicas.policy("collection create")
	if err != nil {
		return err
	}
	want := catalog.Collection{Name: o.Name, Description: o.Description, DataRoot: o.DataRoot, WebSeeds: o.WebSeeds}
	if p.Min != nil {
		want.ReplicasMin = *p.Min
	}
	if p.Max != nil {
		want.ReplicasMax = *p.Max
	}
	if o.DataRoot != "" {
		if err := a.cfg.CheckDataRoot(o.DataRoot); err != nil {
			return fmt.Errorf("collection create: %w", usageErrorf("--data-root %v", err))
		}
	}
	return a.withCatalog(ctx, "collection create", func(db *catalog.DB) error {
		c, err := db.CreateCollection(ctx, want)
		if err != nil {
			return fmt.Errorf("collection create %s: %w", o.Name, err)
		}
		a.printf("created collection %s (data in %s; replicas min %d, max %d)\n", c.Name, collectionDataRoot(a, c),
			c.ReplicasMin, c.ReplicasMax)
		return nil
	})
}

// collectionDataRoot is where imported torrents of c get their directories:
// its data_root, else data_dir/<name>, as an absolute path.
func collectionDataRoot(a *app, c catalog.Collection) string {
	return importer.CollectionRoot(a.cfg.ResolvedDataDir(), c)
}
