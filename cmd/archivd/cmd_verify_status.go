package main

import (
	"context"
	"fmt"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/spf13/cobra"
)

type runProgress struct {
	catalog.VerifyRun
	// Rate is bytes hashed per second since the run started; Left the
	// estimated time to finish at that rate (seconds, -1 unknown).
	Rate float64 `json:"rate_bytes_per_second"`
	Left float64 `json:"seconds_left"`
}

func newVerifyStatusCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show verify runs queued or in progress: bytes done, rate, time left",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCatalog(cmd.Context(), "verify status", func(db *catalog.DB) error { return runVerifyStatus(cmd.Context(), a, db, asJSON) })
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func runVerifyStatus(ctx context.Context, a *app, db *catalog.DB, asJSON bool) error {
	runs, err := db.UnfinishedVerifyRuns(ctx, []catalog.RunKind{catalog.RunManual, catalog.RunScheduled, catalog.RunOffline})
	if err != nil {
		return fmt.Errorf("verify status: %w", err)
	}
	now := time.Now()
	out := make([]runProgress, len(runs))
	for i, r := range runs {
		out[i] = progressOf(r, now)
	}
	if asJSON {
		return printJSON(a.stdout, out)
	}
	if len(out) == 0 {
		a.printf("no verify run queued or running\n")
		return nil
	}
	rows := make([]string, len(out))
	for i, p := range out {
		left := "-"
		if p.Left >= 0 {
			left = (time.Duration(p.Left) * time.Second).String()
		}
		rows[i] = fmt.Sprintf("%d\t%s\t%s\t%s / %s\t%s/s\t%s\t%d", p.ID, p.Kind, p.State, human.Bytes(p.BytesHashed),
			human.Bytes(p.BytesPlanned), human.Bytes(int64(p.Rate)), left, p.PiecesFailed)
	}
	return table(a.stdout, "RUN\tKIND\tSTATE\tHASHED\tRATE\tLEFT\tFAILED", rows)
}

func progressOf(r catalog.VerifyRun, now time.Time) runProgress {
	p := runProgress{VerifyRun: r, Left: -1}
	if r.StartedAt != nil {
		if el := now.Sub(*r.StartedAt).Seconds(); el > 0 {
			p.Rate = float64(r.BytesHashed) / el
		}
	}
	if p.Rate > 0 && r.BytesPlanned >= r.BytesHashed {
		p.Left = float64(r.BytesPlanned-r.BytesHashed) / p.Rate
	}
	return p
}
