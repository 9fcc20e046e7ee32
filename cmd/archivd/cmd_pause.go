package main

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/spf13/cobra"
)

type pauseOptions struct {
	Refs       []string
	Collection string
	Action     string // pause | resume
}

func newPauseCmd(a *app, action string) *cobra.Command {
	o := pauseOptions{Action: action}
	cmd := &cobra.Command{
		Use:   action + " [NAME|INFOHASH...]",
		Short: map[string]string{"pause": "Stop seeding torrents (data and catalog kept)", "resume": "Resume paused torrents; clear unavailable ones (and their held findings) once the data is back"}[action],
		Long: `Without arguments, --collection names every torrent of that collection.
With arguments and --collection, each torrent must belong to it.`,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && o.Collection == "" {
				return usageErrorf("%s: name torrents or give --collection", action)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Refs = args
			return runPause(cmd.Context(), a, o)
		},
	}
	cmd.Flags().StringVarP(&o.Collection, "collection", "c", "", "collection of the torrents (alone: all of its torrents)")
	return cmd
}

func runPause(ctx context.Context, a *app, o pauseOptions) error {
	state := map[string]catalog.TorrentState{"pause": catalog.TorrentPaused, "resume": catalog.TorrentActive}[o.Action]
	return a.withCatalog(ctx, o.Action, func(db *catalog.DB) error {
		ts, err := pauseTargets(ctx, db, o)
		if err != nil {
			return fmt.Errorf("%s: %w", o.Action, err)
		}
		for _, t := range ts {
			if err := db.SetTorrentState(ctx, t.ID, state); err != nil {
				return fmt.Errorf("%s %s: %w", o.Action, t.Name, err)
			}
			a.printf("%s %s: %s\n", t.Name, shortHash(t), state)
			if o.Action == "resume" {
				if err := release(ctx, a, db, t); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func pauseTargets(ctx context.Context, db *catalog.DB, o pauseOptions) ([]catalog.Torrent, error) {
	if o.Collection != "" {
		if _, err := db.Collection(ctx, o.Collection); err != nil {
			return nil, err
		}
	}
	if len(o.Refs) > 0 {
		return resolveRefs(ctx, db, o.Refs, o.Collection)
	}
	return db.Torrents(ctx, catalog.TorrentFilter{Collection: o.Collection})
}

// release clears an unavailable torrent and its held findings on resume:
// the operator says the data is back; the seeder checks that it is.
func release(ctx context.Context, a *app, db *catalog.DB, t catalog.Torrent) error {
	was, n, err := db.ReleaseTorrent(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("resume %s: %w", t.Name, err)
	}
	if was {
		a.printf("%s %s: unavailability cleared (was: %s); the daemon checks the data again\n", t.Name, shortHash(t), t.AvailabilityReason)
	}
	if n > 0 {
		a.printf("%s %s: %d held findings released; the next verify run re-reads them\n", t.Name, shortHash(t), n)
	}
	return nil
}
