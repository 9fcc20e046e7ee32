package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/spf13/cobra"
)

// verify pause|resume|cancel [RUN]: the wish goes into the catalog; the
// process executing the run (the daemon, or a verify --offline) honours
// it within a second.
func newVerifyControlCmds(a *app) []*cobra.Command {
	mk := func(action, short string) *cobra.Command {
		return &cobra.Command{
			Use:   action + " [RUN]",
			Short: short,
			Long: short + `.

RUN is a run id from 'archivd verify status'; without it, the one run
queued or running (several: name one).`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.withCatalog(cmd.Context(), "verify "+action, func(db *catalog.DB) error {
					return runVerifyControl(cmd.Context(), a, db, action, args)
				})
			},
		}
	}
	return []*cobra.Command{
		mk("pause", "Pause the running verify run: hashing stops, the run keeps its place and nothing else starts"),
		mk("resume", "Resume a paused verify run"),
		mk("cancel", "Cancel a queued, running or paused verify run (ranges left keep their old verification time)"),
	}
}

func runVerifyControl(ctx context.Context, a *app, db *catalog.DB, action string, args []string) error {
	id, err := controlTarget(ctx, db, action, args)
	if err != nil {
		return err
	}
	switch action {
	case "pause":
		err = db.PauseVerifyRun(ctx, id, time.Now())
	case "resume":
		err = db.ResumeVerifyRun(ctx, id)
	default:
		err = db.CancelVerifyRun(ctx, id, time.Now())
	}
	if err != nil {
		return withCode(controlCode(err), fmt.Errorf("verify %s: %w", action, err))
	}
	next := map[string]string{
		"pause":  fmt.Sprintf("; resume with 'archivd verify resume %d'", id),
		"resume": "; follow it with 'archivd verify status'",
		"cancel": fmt.Sprintf("; its report: 'archivd report %d'", id),
	}[action]
	a.printf("verify run %d: %s%s\n", id, map[string]string{"pause": "paused", "resume": "resumed", "cancel": "cancelled"}[action], next)
	return nil
}

func controlCode(err error) int {
	if code := exitCode(err); code != exitFailure {
		return code
	}
	return exitConflict
}

// controlTarget is the named run, or the only active one.
func controlTarget(ctx context.Context, db *catalog.DB, action string, args []string) (int64, error) {
	if len(args) == 1 {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id < 1 {
			return 0, usageErrorf("verify %s: run %q: want a run id (see 'archivd verify status')", action, args[0])
		}
		return id, nil
	}
	runs, err := db.ActiveVerifyRuns(ctx)
	if err != nil {
		return 0, fmt.Errorf("verify %s: %w", action, err)
	}
	switch len(runs) {
	case 0:
		return 0, withCode(exitNotFound, fmt.Errorf("verify %s: no verify run is queued or running", action))
	case 1:
		return runs[0].ID, nil
	}
	return 0, usageErrorf("verify %s: %d runs are queued or running: name one (see 'archivd verify status')", action, len(runs))
}
