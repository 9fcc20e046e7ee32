package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/archivd/archivd/internal/verify"
	"github.com/spf13/cobra"
)

// runProgress is a run with its progress: the JSON of one run of 'verify
// status'.
type runProgress struct {
	catalog.VerifyRun
	catalog.RunProgress
}

func newVerifyStatusCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show verify runs queued, running or paused: progress, rate, time left, and the next window",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCatalog(cmd.Context(), "verify status", func(db *catalog.DB) error { return runVerifyStatus(cmd.Context(), a, db, asJSON) })
		},
	}
	jsonFlag(cmd, &asJSON)
	return cmd
}

// verifyStatus is the JSON of 'verify status'.
type verifyStatus struct {
	Runs []runProgress `json:"runs"`
	// NextWindow is when the next scheduled scrub window opens.
	NextWindow time.Time `json:"next_window"`
	// Skipped is the latest scheduled run when its window ended before
	// it started (catalog.RunSkippedByWindow) and no full run has been
	// done since.
	Skipped *catalog.VerifyRun `json:"skipped_scheduled_run,omitempty"`
}

func runVerifyStatus(ctx context.Context, a *app, db *catalog.DB, asJSON bool) error {
	runs, err := db.ActiveVerifyRuns(ctx)
	if err != nil {
		return fmt.Errorf("verify status: %w", err)
	}
	live, err := daemonLive(ctx, db)
	if err != nil {
		return fmt.Errorf("verify status: %w", err)
	}
	now := time.Now()
	st := verifyStatus{Runs: make([]runProgress, len(runs))}
	for i, r := range runs {
		st.Runs[i] = progressOf(r, now)
	}
	if st.NextWindow, err = verify.NextWindow(verify.ConfigFrom(a.cfg, a.log), now); err != nil {
		return fmt.Errorf("verify status: %w", err)
	}
	last, caughtUp, ok, err := db.LastScheduledRun(ctx)
	if err != nil {
		return fmt.Errorf("verify status: %w", err)
	}
	if ok && !caughtUp && strings.HasPrefix(last.Error, catalog.RunSkippedByWindow) {
		st.Skipped = &last
	}
	if asJSON {
		return printJSON(a.stdout, st)
	}
	if st.Skipped != nil {
		a.printf("scheduled run %d skipped at %s: %s; 'archivd verify' runs one now\n", last.ID,
			last.FinishedAt.Local().Format("2006-01-02 15:04 MST"), last.Error)
	}
	window := fmt.Sprintf("next scrub window: %s (in %s)", st.NextWindow.Format("2006-01-02 15:04 MST"),
		st.NextWindow.Sub(now).Round(time.Minute))
	if len(st.Runs) == 0 {
		a.printf("no verify run queued or running; %s\n", window)
		return nil
	}
	if !live && queued(st.Runs) {
		a.printf("no archivd serve is running (none seen in the last %s): queued runs wait for 'archivd serve'\n", catalog.NodeLiveTTL)
	}
	rows := make([]string, len(st.Runs))
	for i, p := range st.Runs {
		rows[i] = fmt.Sprintf("%d\t%s\t%s\t%s / %s\t%.0f%%\t%s/s\t%s\t%d", p.ID, p.Kind, p.shownState(), human.Bytes(p.BytesHashed),
			human.Bytes(p.BytesPlanned), p.Percent, human.Bytes(int64(p.Rate)), p.leftText(), p.PiecesFailed)
	}
	if err := table(a.stdout, "RUN\tKIND\tSTATE\tHASHED\tDONE\tRATE\tLEFT\tFAILED", rows); err != nil {
		return err
	}
	a.printf("%s\n", window)
	return nil
}

func (p runProgress) shownState() string {
	if p.PausedAt != nil {
		return "paused"
	}
	return string(p.State)
}

func (p runProgress) leftText() string {
	switch {
	case p.PausedAt != nil:
		return "paused"
	case p.Left < 0:
		return "-"
	}
	return (time.Duration(p.Left) * time.Second).String()
}

func queued(ps []runProgress) bool {
	for _, p := range ps {
		if p.State == catalog.RunQueued {
			return true
		}
	}
	return false
}

func progressOf(r catalog.VerifyRun, now time.Time) runProgress {
	return runProgress{VerifyRun: r, RunProgress: r.Progress(now)}
}
