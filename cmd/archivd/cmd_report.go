package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/archivd/archivd/internal/verify"
	"github.com/spf13/cobra"
)

type reportOptions struct {
	Format string
	Out    string
	List   int  // > 0: list the latest List runs instead
	JSON   bool // --format json, or JSON with List
}

// validate refuses contradictory flags before anything is read.
func (o *reportOptions) validate() error {
	if o.List < 0 {
		return usageErrorf("report: --list %d: want a number of runs > 0", o.List)
	}
	if o.List > 0 && o.Out != "" {
		return usageErrorf("report: --out writes one run's report; it cannot be used with --list")
	}
	if o.JSON {
		if o.Format != "table" && o.Format != "json" {
			return usageErrorf("report: --json and --format %s contradict each other", o.Format)
		}
		o.Format = "json"
	}
	if o.List > 0 && o.Format != "table" && o.Format != "json" {
		return usageErrorf("report: --list prints a table or, with --json, JSON; not --format %s", o.Format)
	}
	o.JSON = o.Format == "json"
	return nil
}

func newReportCmd(a *app) *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report [latest|RUN]",
		Short: "Render the report of a verify run (table, json, csv, markdown, html), or list runs",
		Long: `Render the report of one verify run: scope, bytes hashed, pieces checked,
failed and repaired, duration, throughput and every finding. --list N lists
the latest N runs instead. --json is --format json.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := "latest"
			if len(args) == 1 {
				ref = args[0]
			}
			if err := o.validate(); err != nil {
				return err
			}
			return runReport(cmd.Context(), a, o, ref)
		},
	}
	cmd.Flags().StringVarP(&o.Format, "format", "f", "table", strings.Join(verify.Formats, "|"))
	cmd.Flags().StringVarP(&o.Out, "out", "o", "", "write to this file instead of standard output")
	cmd.Flags().IntVar(&o.List, "list", 0, "list the latest N runs instead")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON (--format json; with --list too)")
	return cmd
}

func runReport(ctx context.Context, a *app, o reportOptions, ref string) error {
	if o.List > 0 {
		return a.withCatalog(ctx, "report", func(db *catalog.DB) error { return listRuns(ctx, a, db, o) })
	}
	var id int64
	if ref != "latest" {
		n, err := strconv.ParseInt(ref, 10, 64)
		if err != nil || n <= 0 {
			return usageErrorf("report: run %q is not 'latest' or a run number", ref)
		}
		id = n
	}
	if !slices.Contains(verify.Formats, o.Format) {
		return usageErrorf("report: --format %q is not one of %s", o.Format, strings.Join(verify.Formats, ", "))
	}
	return a.withCatalog(ctx, "report", func(db *catalog.DB) error {
		rep, err := verify.LoadReport(ctx, db, id)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		w := a.stdout
		if o.Out != "" {
			f, err := os.Create(o.Out)
			if err != nil {
				return fmt.Errorf("report: %w", err)
			}
			defer f.Close()
			w = f
		}
		if err := rep.Render(w, o.Format); err != nil {
			return fmt.Errorf("report: render run %d: %w", rep.Run.ID, err)
		}
		return nil
	})
}

func listRuns(ctx context.Context, a *app, db *catalog.DB, o reportOptions) error {
	runs, err := db.VerifyRuns(ctx, o.List)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if o.JSON {
		return printJSON(a.stdout, runs)
	}
	rows := make([]string, len(runs))
	for i, r := range runs {
		when := r.RequestedAt.Format("2006-01-02 15:04:05")
		rows[i] = fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d", r.ID, r.Kind, r.State, when,
			human.Bytes(r.BytesHashed), r.PiecesChecked, r.PiecesFailed, r.PiecesRepaired)
	}
	return table(a.stdout, "RUN\tKIND\tSTATE\tREQUESTED\tHASHED\tCHECKED\tFAILED\tREPAIRED", rows)
}
