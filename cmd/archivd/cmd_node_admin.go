package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/spf13/cobra"
)

type nodeAdminOptions struct {
	ID     string
	Action string // drain | undrain | maintenance
	Off    bool   // maintenance --off
	Reason string
	JSON   bool
}

var nodeAdminHelp = map[string][2]string{
	"drain": {"Drain a node: everything is to move off it before it leaves",
		`The node's admin state becomes draining: its replicas stop counting, the
planner places their torrents on other nodes, and once a torrent has
replicas_min complete copies elsewhere the node's copy is removed (its
files deleted only if the planner placed them there), never letting a
torrent fall below its replicas_min. The node keeps serving meanwhile;
'archivd node show NODE' says how many replicas are left (then stop it
and 'archivd node forget NODE'). Nothing is removed while the fleet flag
norebalance is set. Way out: archivd node undrain NODE.`},
	"undrain": {"End a node's draining (admin state back to active)", `Only a draining node can be undrained.`},
	"maintenance": {"Put a node in maintenance (expected away: never marked out), or end it with --off",
		`A node in maintenance may go down (a reboot, a disk swap) without being
marked out: nothing is re-replicated for its absence. Way out:
archivd node maintenance --off NODE.`},
}

func newNodeAdminCmd(a *app, action string) *cobra.Command {
	o := nodeAdminOptions{Action: action}
	cmd := &cobra.Command{
		Use:   action + " NODE",
		Short: nodeAdminHelp[action][0],
		Long:  nodeAdminHelp[action][1],
		Args:  exactArgs(1, "a NODE id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			return runNodeAdmin(cmd.Context(), a, o)
		},
	}
	if action != "undrain" {
		cmd.Flags().StringVar(&o.Reason, "reason", "", "why, shown by 'node show'")
	}
	if action == "maintenance" {
		cmd.Flags().BoolVar(&o.Off, "off", false, "end the maintenance (admin state back to active)")
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the node as JSON afterwards")
	return cmd
}

// target is the admin state the command sets and the one it may leave.
func (o nodeAdminOptions) target() (to, from catalog.NodeAdmin) {
	switch {
	case o.Action == "drain":
		return catalog.NodeDraining, catalog.NodeActive
	case o.Action == "undrain":
		return catalog.NodeActive, catalog.NodeDraining
	case o.Off:
		return catalog.NodeActive, catalog.NodeMaintenance
	}
	return catalog.NodeMaintenance, catalog.NodeActive
}

// wayOut is the command that ends admin state s of node id.
func wayOut(a *app, s catalog.NodeAdmin, id string) string {
	if s == catalog.NodeDraining {
		return a.cliPrefix() + " node undrain " + id
	}
	return a.cliPrefix() + " node maintenance --off " + id
}

func runNodeAdmin(ctx context.Context, a *app, o nodeAdminOptions) error {
	what := "node " + o.Action
	if o.Off && o.Reason != "" {
		return usageErrorf("%s: --reason is for entering maintenance, not with --off", what)
	}
	return a.withCatalog(ctx, what, func(db *catalog.DB) error {
		to, from := o.target()
		found, err := db.SetNodeAdmin(ctx, o.ID, from, to, o.Reason)
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			return fmt.Errorf("%s: %w (the nodes there are: %s node list)", what, err, a.cliPrefix())
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case found == to:
			a.printf("node %s: already %s\n", o.ID, to)
		case found != from:
			// One admin state at a time: leave the other first.
			return withCode(exitConflict, fmt.Errorf("%s: node %s is %s, not %s; end that first: %s",
				what, o.ID, found, from, wayOut(a, found, o.ID)))
		case to == catalog.NodeActive:
			a.printf("node %s: %s ended; active\n", o.ID, from)
		default:
			a.printf("node %s: %s (way out: %s)\n", o.ID, to, wayOut(a, to, o.ID))
		}
		return printNodeJSON(ctx, a, db, o)
	})
}

func printNodeJSON(ctx context.Context, a *app, db *catalog.DB, o nodeAdminOptions) error {
	if !o.JSON {
		return nil
	}
	n, err := db.Node(ctx, o.ID)
	if err != nil {
		return fmt.Errorf("node %s: %w", o.Action, err)
	}
	return printJSON(a.stdout, n)
}

func newNodeForgetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "forget NODE",
		Short: "Remove a node that left for good from the catalog",
		Long: `Deletes the node's row (and its data roots). Refused while the node is up
(stop its 'archivd serve' first) or while it still holds replicas or
torrents name it (its replicas marked for removal go with it). A node
that starts again registers anew.`,
		Args: exactArgs(1, "a NODE id"),
		RunE: func(cmd *cobra.Command, args []string) error { return runNodeForget(cmd.Context(), a, args[0]) },
	}
}

func runNodeForget(ctx context.Context, a *app, id string) error {
	return a.withCatalog(ctx, "node forget", func(db *catalog.DB) error {
		if _, err := lookupNode(ctx, a, db, "node forget", id); err != nil {
			return err
		}
		err := db.ForgetNode(ctx, id)
		switch {
		case errors.Is(err, catalog.ErrNodeUp):
			return withCode(exitConflict, fmt.Errorf("node forget: node %s is up (seen within %s): stop its archivd serve first", id, catalog.NodeUpTTL))
		case errors.Is(err, catalog.ErrNodeInUse):
			return withCode(exitConflict, fmt.Errorf("node forget: node %s: %w: drain it first (%s node drain %s)", id, err, a.cliPrefix(), id))
		case err != nil:
			return fmt.Errorf("node forget: %w", err)
		}
		a.printf("node %s: forgotten\n", id)
		return nil
	})
}
