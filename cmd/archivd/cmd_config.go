package main

import (
	"fmt"

	"github.com/archivd/archivd/internal/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type configCheckOptions struct {
	File  string
	Flags *pflag.FlagSet // flags that override keys; nil in tests
}

type configShowOptions struct {
	JSON bool
}

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check, show or reload the configuration",
	}
	cmd.AddCommand(newConfigCheckCmd(a), newConfigShowCmd(a), newConfigReloadCmd(a))
	return cmd
}

func newConfigCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "check [FILE]",
		Short:       "Validate a configuration file (default --config) with the environment and flags",
		Args:        cobra.MaximumNArgs(1),
		Annotations: map[string]string{skipConfig: "1"},
		RunE: func(cmd *cobra.Command, args []string) error {
			o := configCheckOptions{File: a.configFile, Flags: cmd.Flags()}
			if len(args) == 1 {
				o.File = args[0]
			}
			return runConfigCheck(a, o)
		},
	}
}

func runConfigCheck(a *app, o configCheckOptions) error {
	if _, err := config.Load(o.File, a.env, o.Flags); err != nil {
		return fmt.Errorf("config check: %w", err)
	}
	name := o.File
	if name == "" {
		name = "(no file: defaults and environment)"
	}
	a.printf("%s: ok\n", name)
	return nil
}

func newConfigShowCmd(a *app) *cobra.Command {
	var o configShowOptions
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration, secrets redacted",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runConfigShow(a, o) },
	}
	jsonFlag(cmd, &o.JSON)
	return cmd
}

func runConfigShow(a *app, o configShowOptions) error {
	r := a.cfg.Redacted()
	if o.JSON {
		return printJSON(a.stdout, r.Map())
	}
	out, err := r.YAML()
	if err != nil {
		return fmt.Errorf("config show: %w", err)
	}
	_, err = a.stdout.Write(out)
	return err
}
