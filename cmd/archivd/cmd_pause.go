package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/verify"
	"github.com/spf13/cobra"
)

type pauseOptions struct {
	Refs       []string
	Collection string
	Action     string // pause | resume
	Force      bool   // resume: clear unavailable torrents whatever the re-check says
}

func newPauseCmd(a *app, action string) *cobra.Command {
	o := pauseOptions{Action: action}
	cmd := &cobra.Command{
		Use:   action + " [NAME|INFOHASH...]",
		Short: map[string]string{"pause": "Stop seeding torrents (data and catalog kept)", "resume": "Resume paused torrents; bring unavailable ones back once their data is"}[action],
		Long: `Without arguments, --collection names every torrent of that collection.
With arguments and --collection, each torrent must belong to it.` + map[string]string{"pause": "", "resume": `

resume also re-checks a torrent marked unavailable (its data directory was
gone, or most of it failed verification): every piece recorded complete is
hashed from disk; if the data is back (no more than the mass-failure share
bad), the torrent is available again and the daemon seeds it, fetching the
bad pieces again. Otherwise it stays unavailable, the reason is printed and
the exit code is 6. The daemon runs the same re-check by itself, with
backoff, and at once on SIGHUP.

--force clears a torrent the re-check leaves unavailable (most of it is
bad, and the operator has checked the disk): its held findings become open
damage and repair fetches the bad pieces again. One whose data directory
is missing (a disk lost for good) gives up its pieces recorded complete
and is downloaded again from the swarm.`}[action],
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
	if action == "resume" {
		cmd.Flags().BoolVar(&o.Force, "force", false, "clear unavailable torrents even when the re-check finds most of their data bad")
	}
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
		}
		if o.Action == "resume" {
			return recheckUnavailable(ctx, a, db, ts, o.Force)
		}
		return nil
	})
}

// recheckUnavailable runs the re-check of every unavailable torrent of ts
// (verify.Recheck) and fails with exitDamage if any stays unavailable.
func recheckUnavailable(ctx context.Context, a *app, db *catalog.DB, ts []catalog.Torrent, force bool) error {
	var still []string
	for _, t := range ts {
		if t.Availability != catalog.AvailabilityUnavailable {
			continue
		}
		a.printf("%s %s: unavailable (%s): re-checking its data...\n", t.Name, shortHash(t), t.AvailabilityReason)
		res, err := verify.Recheck(ctx, db, verify.ConfigFrom(a.cfg, a.log), t.ID)
		if err != nil {
			return fmt.Errorf("resume %s: %w", t.Name, err)
		}
		if !res.Available && force {
			if err := giveUpMissingData(ctx, a, db, t); err != nil {
				return err
			}
			if err := release(ctx, a, db, t); err != nil {
				return err
			}
			continue
		}
		if !res.Available {
			a.printf("%s %s: still unavailable: %s (to fetch whatever is bad from the swarm anyway: archivd resume --force %s)\n",
				t.Name, shortHash(t), res.Reason, t.Name)
			still = append(still, t.Name)
			continue
		}
		a.printf("%s %s: available (%d recorded pieces hashed, %d bad: fetched again)\n", t.Name, shortHash(t), res.Checked, res.Bad)
	}
	if len(still) > 0 {
		return withCode(exitDamage, fmt.Errorf("resume: %d torrents still unavailable (%s); run `archivd resume` again once their data is back", len(still), strings.Join(still, ", ")))
	}
	return nil
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
// giveUpMissingData: forced, a torrent whose data directory (or every
// file of it) is missing gives up the pieces recorded complete: they are
// recorded not complete, so the daemon downloads the torrent afresh
// instead of holding it unavailable again at its next add (its check
// refuses a torrent with no data and pieces recorded complete: an
// unmounted disk is not a reason to download everything again, but a
// forced resume is the operator saying it is). Data that is there is
// left to the re-check and repair.
func giveUpMissingData(ctx context.Context, a *app, db *catalog.DB, t catalog.Torrent) error {
	files, err := db.Files(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("resume %s: %w", t.Name, err)
	}
	if cause, _ := datadir.Presence(t.DataDir, datadir.FilePaths(files)); cause != catalog.CauseDataMissing {
		return nil
	}
	ps, err := db.LoadPieces(ctx, t.ID, t.PieceCount)
	if err != nil {
		return fmt.Errorf("resume %s: %w", t.Name, err)
	}
	var gone []catalog.PieceUpdate
	for i := range t.PieceCount {
		if ps.Known.Get(i) && ps.Complete.Get(i) {
			gone = append(gone, catalog.PieceUpdate{Piece: i, Complete: false})
		}
	}
	if len(gone) == 0 {
		return nil
	}
	if err := db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{t.ID: gone}); err != nil {
		return fmt.Errorf("resume %s: record its missing data's pieces not complete: %w", t.Name, err)
	}
	a.printf("%s %s: data directory %s is missing: its %d pieces recorded complete are given up; the daemon downloads it again\n",
		t.Name, shortHash(t), t.DataDir, len(gone))
	return nil
}

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
