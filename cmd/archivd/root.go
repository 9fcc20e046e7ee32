package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/logging"
	"github.com/spf13/cobra"
)

// run executes the command line args and returns the exit code. Errors are
// printed here, once, as one line.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdout: stdout, stderr: stderr, env: os.Environ(), stderrTTY: logging.IsTerminal(stderr)}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(stderr, errorLine(err))
	}
	return commandExitCode(err)
}

// skipConfig is set on commands that run without loading the configuration.
const skipConfig = "archivd/skip-config"

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "archivd",
		Short: "Archival BitTorrent seeding server with a PostgreSQL catalog",
		Long: `archivd keeps dataset collections seeded over BitTorrent for years,
re-hashes every byte on a schedule and repairs bitrot from the swarm.

The CLI writes desired state into the catalog; 'archivd serve' acts on it.
Configuration: defaults < --config file < ARCHIVD_* environment < flags.

` + exitCodesHelp,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: a.loadConfig,
	}
	addRootFlags(root, a)
	root.AddCommand(
		newVersionCmd(a),
		newConfigCmd(a),
		newMigrateCmd(a),
		newCollectionCmd(a),
		newAddCmd(a),
		newListCmd(a),
		newShowCmd(a),
		newRmCmd(a),
		newPauseCmd(a, "pause"),
		newPauseCmd(a, "resume"),
		newReplicasCmd(a),
		newServeCmd(a),
		newVerifyCmd(a),
		newReportCmd(a),
		newHealthCmd(a),
		newNodeCmd(a),
		newFleetCmd(a),
		newManCmd(a),
	)
	refuseUnknownCommands(root)
	markRunErrors(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withCode(exitUsage, fmt.Errorf("%s: %w", cmdPath(c), err))
	})
	return root
}

func addRootFlags(root *cobra.Command, a *app) {
	pf := root.PersistentFlags()
	def := ""
	for _, kv := range a.env {
		if v, ok := strings.CutPrefix(kv, config.EnvConfigFile+"="); ok {
			def = v
		}
	}
	pf.StringVar(&a.configFile, "config", def, "configuration file (default $ARCHIVD_CONFIG, else none)")
	pf.String("log-level", "", "log level: trace|debug|info|warn|error (log.level)")
	pf.String("log-format", "", "log format: auto|json|console (log.format)")
	pf.String("state-dir", "", "state directory (state_dir)")
	pf.String("data-dir", "", "root of torrent data (data_dir; default state_dir/data)")
	pf.String("database.url", "", `PostgreSQL URL of the catalog (database.url; "" = embedded)`)
	pf.String("database.password_file", "", "file holding the database password (database.password_file)")
}

// loadConfig runs before every command: the configuration and the logger.
func (a *app) loadConfig(cmd *cobra.Command, _ []string) error {
	if cmd.Annotations[skipConfig] != "" || isCompletion(cmd) {
		return nil
	}
	cfg, err := config.Load(a.configFile, a.env, cmd.Flags())
	if err != nil {
		return err
	}
	a.cfg = cfg
	a.log, a.logLevel, err = logging.Setup(cfg.Log.Level, cfg.Log.Format, a.stderr, a.env)
	return err
}

// markRunErrors wraps every RunE so that exitCode can tell a command's own
// failure from cobra's argument errors.
func markRunErrors(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if err := run(cmd, args); err != nil {
				return &runError{err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markRunErrors(sub)
	}
}

// exactArgs is cobra.ExactArgs with a message that names the command.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s: want %s, got %d arguments", cmdPath(cmd), what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("%s: want %s", cmdPath(cmd), what)
		}
		return nil
	}
}

// cmdPath is the command path without the leading "archivd", which the
// error line already starts with.
func cmdPath(c *cobra.Command) string {
	if !c.HasParent() {
		return c.Name()
	}
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// isCompletion reports cobra's own shell-completion commands, which need
// no configuration.
func isCompletion(c *cobra.Command) bool {
	for ; c != nil; c = c.Parent() {
		if c.Name() == "completion" || strings.HasPrefix(c.Name(), "__complete") {
			return true
		}
	}
	return false
}
