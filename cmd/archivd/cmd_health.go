package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/daemon"
	"github.com/archivd/archivd/internal/health"
	"github.com/spf13/cobra"
)

func newHealthCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Evaluate the named health checks (ceph health detail style)",
		Long: `Evaluate every health check over the catalog and the data roots and print
each raised one: its code, severity, the torrents or file systems it
concerns, and a command that helps. The same evaluation is shown on the
status page, at /healthz/detail and in /metrics (archivd_health_check).

Checks: ` + strings.Join(health.Codes[:], ", ") + `.

Exit code: 0 all OK, 1 a check is WARN, 2 a check is ERR (a catalog that
cannot be reached is CATALOG_DEGRADED, ERR).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runHealth(cmd.Context(), a, asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// healthTimeout bounds the evaluation, so that a catalog that hangs is
// reported rather than waited for.
const healthTimeout = 30 * time.Second

func runHealth(ctx context.Context, a *app, asJSON bool) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	db, closeFn, err := a.openCatalog(ctx, "health", false)
	if err == nil {
		defer closeFn()
	}
	rep := health.New(db, err, daemon.HealthConfig(a.cfg, a.cliPrefix())).Evaluate(ctx)
	if asJSON {
		if err := printJSON(a.stdout, rep); err != nil {
			return err
		}
	} else {
		printHealth(a, rep)
	}
	if rep.Status == health.OK {
		return nil
	}
	return withCode(int(rep.Status), fmt.Errorf("health: HEALTH_%s: %d checks raised", rep.Status, len(rep.Checks)))
}

// cliPrefix is how printed commands start: with the --config this
// process was given, so that they work when pasted.
func (a *app) cliPrefix() string {
	if a.configFile == "" {
		return "archivd"
	}
	p, err := filepath.Abs(a.configFile)
	if err != nil {
		p = a.configFile
	}
	return "archivd --config " + health.ShellQuote(p)
}

func printHealth(a *app, rep health.Report) {
	if len(rep.Checks) == 0 {
		a.printf("HEALTH_OK\n")
		return
	}
	var codes []string
	for _, c := range rep.Checks {
		codes = append(codes, c.Code)
	}
	a.printf("HEALTH_%s %s\n", rep.Status, strings.Join(codes, ", "))
	for _, c := range rep.Checks {
		a.printf("[%s] %s: %s\n", c.Severity, c.Code, c.Summary)
		for _, d := range c.Detail {
			a.printf("    %s\n", d)
		}
		if c.Count > len(c.Detail) && len(c.Torrents) > 0 {
			a.printf("    ... and %d more\n", c.Count-len(c.Detail))
		}
		if c.Hint != "" {
			a.printf("    %s:\n", c.Hint)
		}
		a.printf("    $ %s\n", c.Command)
	}
}
