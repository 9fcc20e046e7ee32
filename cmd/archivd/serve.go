package main

import (
	"context"
	"errors"

	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/daemon"
	"github.com/spf13/cobra"
)

func newServeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: seed the catalog's torrents, verify on schedule, serve metrics",
		Long: `Run archivd in the foreground until SIGTERM or SIGINT, then stop cleanly.

With no database.url, a private PostgreSQL cluster is started under
state_dir/postgres from the host's binaries and stopped on exit. An outdated
catalog schema is refused unless database.auto_migrate is true.
SIGHUP ('archivd config reload') re-reads the configuration file and applies
rate and connection limits, the alt_speed schedule, log.level, verify
settings, http.token_file and collections at once; other changed keys are
named in one log line and wait for a restart. An invalid file is rejected
and the running configuration kept. Speaks the systemd notify protocol (READY,
RELOADING, STOPPING, watchdog pings after a real health check).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), a) },
	}
}

func runServe(ctx context.Context, a *app) error {
	reload := func() (*config.Config, error) { return config.Load(a.configFile, a.env, nil) }
	err := daemon.Run(ctx, daemon.Options{Config: a.cfg, Logger: a.log, LogLevel: a.logLevel, Version: version, Reload: reload, CLI: a.cliPrefix()})
	if errors.Is(err, daemon.ErrSchema) {
		return withCode(exitSchema, err)
	}
	return err
}
