package main

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/spf13/cobra"
)

type rmOptions struct {
	Refs       []string
	DeleteData bool
}

func newRmCmd(a *app) *cobra.Command {
	var o rmOptions
	cmd := &cobra.Command{
		Use:   "rm NAME|INFOHASH...",
		Short: "Remove torrents from the catalog (with --delete-data also their files)",
		Long: `Remove torrents from the catalog. Their data stays on disk unless
--delete-data is given: then exactly the torrent's files are deleted, and
afterwards the directories inside its data directory that became empty.
Symbolic links below the data directory are never followed nor deleted
(a file reached through one is kept and named), and nothing else is
deleted.`,
		Args: minArgs(1, "at least one torrent NAME or INFOHASH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Refs = args
			return runRm(cmd.Context(), a, o)
		},
	}
	cmd.Flags().BoolVar(&o.DeleteData, "delete-data", false, "also delete the torrent's files from disk")
	return cmd
}

func runRm(ctx context.Context, a *app, o rmOptions) error {
	return a.withCatalog(ctx, "rm", func(db *catalog.DB) error {
		ts, err := resolveRefs(ctx, db, o.Refs, "")
		if err != nil {
			return fmt.Errorf("rm: %w", err)
		}
		for _, t := range ts {
			if err := rmOne(ctx, a, db, t, o.DeleteData); err != nil {
				return err
			}
		}
		return nil
	})
}

// rmOne removes t from the catalog first (the daemon stops serving it),
// then its files if asked.
func rmOne(ctx context.Context, a *app, db *catalog.DB, t catalog.Torrent, deleteData bool) error {
	files, err := db.Files(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("rm %s: %w", t.Name, err)
	}
	if err := db.DeleteTorrent(ctx, t.ID); err != nil {
		return fmt.Errorf("rm %s: %w", t.Name, err)
	}
	if !deleteData {
		a.printf("removed %s (%s) from the catalog; data kept in %s\n", t.Name, shortHash(t), t.DataDir)
		return nil
	}
	res, err := datadir.RemoveTorrent(t, files)
	if err != nil {
		return fmt.Errorf("rm %s: removed from the catalog, but deleting its data failed: %w", t.Name, err)
	}
	a.printf("removed %s (%s): deleted %d files and %d empty directories in %s\n", t.Name, shortHash(t), res.Files, res.Dirs, t.DataDir)
	for _, s := range res.Kept {
		fmt.Fprintf(a.stderr, "archivd: rm %s: kept %s\n", t.Name, s)
	}
	return nil
}
