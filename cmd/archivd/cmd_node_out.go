package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/spf13/cobra"
)

type nodeOutOptions struct {
	ID     string
	Out    bool
	Reason string
	JSON   bool
}

func newNodeOutCmd(a *app, out bool) *cobra.Command {
	o := nodeOutOptions{Out: out}
	cmd := &cobra.Command{
		Use:   "in NODE",
		Short: "Bring a node that is out in again: its replicas count again",
		Long: `The node's replicas count as copies again (marked out by an operator or
automatically for being down too long). A torrent that then has more
complete copies than its replicas_max is trimmed by the planner (unless
norebalance is set).`,
		Args: exactArgs(1, "a NODE id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			return runNodeOut(cmd.Context(), a, o)
		},
	}
	if out {
		cmd.Use = "out NODE"
		cmd.Short = "Mark a node out: its replicas stop counting and are placed elsewhere"
		cmd.Long = `The node's replicas stop counting as copies: the planner places the
torrents that fall under their replicas_min on other nodes. The node keeps
its data and goes on serving it; nothing is deleted from it (to empty a
node, drain it). An operator's out stays until the operator ends it, even
across restarts. Way out: archivd node in NODE.`
		cmd.Flags().StringVar(&o.Reason, "reason", "", "why, shown by 'node show'")
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the node as JSON afterwards")
	return cmd
}

func runNodeOut(ctx context.Context, a *app, o nodeOutOptions) error {
	what := "node in"
	if o.Out {
		what = "node out"
	}
	return a.withCatalog(ctx, what, func(db *catalog.DB) error {
		reason := o.Reason
		if reason == "" {
			reason = "marked out by " + operator()
		}
		changed, err := db.SetNodeOut(ctx, o.ID, o.Out, reason)
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			return fmt.Errorf("%s: %w (the nodes there are: %s node list)", what, err, a.cliPrefix())
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case !changed && o.Out:
			a.printf("node %s: already out (way out: %s node in %s)\n", o.ID, a.cliPrefix(), o.ID)
		case !changed:
			a.printf("node %s: already in\n", o.ID)
		case o.Out:
			a.printf("node %s: out: its replicas stop counting and are placed elsewhere (way out: %s node in %s)\n", o.ID, a.cliPrefix(), o.ID)
		default:
			a.printf("node %s: in: its replicas count again\n", o.ID)
		}
		if !o.JSON {
			return nil
		}
		n, err := db.Node(ctx, o.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return printJSON(a.stdout, n)
	})
}
