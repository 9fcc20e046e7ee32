package main

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/spf13/cobra"
)

type listOptions struct {
	Collection string
	JSON       bool
}

func newListCmd(a *app) *cobra.Command {
	var o listOptions
	cmd := newListingCmd("List torrents", "no arguments (use --collection to narrow)", &o.JSON,
		func(ctx context.Context) error { return runList(ctx, a, o) })
	cmd.Flags().StringVarP(&o.Collection, "collection", "c", "", "only torrents of this collection")
	return cmd
}

func runList(ctx context.Context, a *app, o listOptions) error {
	return a.withCatalog(ctx, "list", func(db *catalog.DB) error {
		views, err := listViews(ctx, db, o.Collection)
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		return printList(a.stdout, o.JSON, views, "NAME\tINFOHASH\tCOLLECTION\tSIZE\tCOMPLETE\tSTATE\tAVAILABILITY\tNODES", func(v torrentView) string {
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%.1f%%\t%s\t%s\t%s", v.Name, shortHash(v.Torrent), v.Collection,
				human.Bytes(v.TotalLength), v.CompletePct, v.EffectiveState, v.availabilityText(), nodesText(v.Nodes))
		})
	})
}

func listViews(ctx context.Context, db *catalog.DB, collection string) ([]torrentView, error) {
	if collection != "" {
		if _, err := db.Collection(ctx, collection); err != nil {
			return nil, err
		}
	}
	ts, err := db.Torrents(ctx, catalog.TorrentFilter{Collection: collection})
	if err != nil {
		return nil, err
	}
	engine, err := db.EngineStates(ctx)
	if err != nil {
		return nil, err
	}
	counts := make(map[int64]int, len(ts))
	for _, t := range ts {
		counts[t.ID] = t.PieceCount
	}
	pieces, err := db.LoadPiecesOf(ctx, counts)
	if err != nil {
		return nil, err
	}
	nodes, err := db.ReplicaNodes(ctx)
	if err != nil {
		return nil, err
	}
	views := make([]torrentView, 0, len(ts))
	for _, t := range ts {
		v := viewWith(t, pieces[t.ID])
		v.Nodes = nodes[t.ID]
		if st, ok := engine[t.ID]; ok {
			v.Engine = &st
		}
		views = append(views, v)
	}
	return views, nil
}
