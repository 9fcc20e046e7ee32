package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// refuseUnknownCommands makes every command that has subcommands and takes
// no arguments of its own answer a mistyped subcommand with one line that
// names the suggestion, instead of cobra's multi-line "Did you mean this?".
// Such a command run alone prints its help, as before.
func refuseUnknownCommands(c *cobra.Command) {
	if c.HasSubCommands() && c.Args == nil && c.RunE == nil && c.Run == nil {
		c.Args = unknownCommand
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	for _, sub := range c.Commands() {
		refuseUnknownCommands(sub)
	}
}

func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	prefix := ""
	if cmd.HasParent() {
		prefix = cmdPath(cmd) + ": "
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("%sunknown command %q", prefix, args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usageErrorf("%s; did you mean %q?", msg, strings.Join(s, `" or "`))
	}
	return usageErrorf("%s: see '%s --help'", msg, cmd.CommandPath())
}
