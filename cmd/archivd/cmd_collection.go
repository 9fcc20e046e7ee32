package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/catalog/domain"
	"github.com/spf13/cobra"
)

func newCollectionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "collection",
		Aliases: []string{"collections"},
		Short:   "Create, list, show, remove, pause and resume collections",
	}
	cmd.AddCommand(newCollectionCreateCmd(a), newCollectionListCmd(a), newCollectionShowCmd(a),
		newCollectionRmCmd(a), newCollectionReplicasCmd(a), newCollectionStateCmd(a, "pause"), newCollectionStateCmd(a, "resume"))
	return cmd
}

func checkCollectionName(name string) error {
	if !domain.ValidCollectionName(name) {
		return usageErrorf("collection name %q: %s", name, domain.CollectionNameRule)
	}
	return nil
}

func checkHTTPURLs(what string, urls []string) error {
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return usageErrorf("%s %q is not an http(s) URL", what, s)
		}
	}
	return nil
}

type collectionStateOptions struct {
	Name   string
	Action string // pause | resume
}

func newCollectionStateCmd(a *app, action string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " NAME",
		Short: map[string]string{"pause": "Stop seeding and verifying a collection", "resume": "Resume a paused collection"}[action],
		Args:  exactArgs(1, "a collection NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCollectionState(cmd.Context(), a, collectionStateOptions{Name: args[0], Action: action})
		},
	}
}

func runCollectionState(ctx context.Context, a *app, o collectionStateOptions) error {
	state := map[string]catalog.TorrentState{"pause": catalog.TorrentPaused, "resume": catalog.TorrentActive}[o.Action]
	return a.withCatalog(ctx, "collection "+o.Action, func(db *catalog.DB) error {
		if err := db.SetCollectionState(ctx, o.Name, state); err != nil {
			return fmt.Errorf("collection %s %s: %w", o.Action, o.Name, err)
		}
		a.printf("collection %s: %s\n", o.Name, state)
		return nil
	})
}
