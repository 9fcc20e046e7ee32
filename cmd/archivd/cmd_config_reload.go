package main

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/archivd/archivd/internal/statelock"
	"github.com/spf13/cobra"
)

func newConfigReloadCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "reload",
		Short: "Make the running daemon re-read its configuration (SIGHUP)",
		Long: `Check the configuration, then send SIGHUP to the archivd serve running on
this state directory (found by its lock, state_dir/archivd.lock). The
daemon applies at once: collections, log.level, network rates, connection
limit and alt_speed schedule, every verify setting, http.token_file; its
log names in one line each changed setting that needs a restart.

Exit 2 when the configuration is invalid (nothing is sent), 1 when no
daemon runs on the state directory.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runConfigReload(a) },
	}
}

// runConfigReload runs after the root command loaded (and so validated)
// the configuration: an invalid file never reaches the daemon.
func runConfigReload(a *app) error {
	pid, err := statelock.ServePID(a.cfg.StateDir)
	if err != nil {
		return fmt.Errorf("config reload: %w", err)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("config reload: archivd serve pid %d: %w", pid, statelock.ErrNotServing)
		}
		return fmt.Errorf("config reload: signal archivd serve pid %d: %w", pid, err)
	}
	a.printf("sent SIGHUP to archivd serve (pid %d); its log says what was applied\n", pid)
	return nil
}
