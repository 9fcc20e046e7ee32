package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/spf13/cobra"
)

func newNodeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "node",
		Aliases: []string{"nodes"},
		Short:   "List, show, drain, mark out or in, put in maintenance and forget the nodes of a shared catalog",
		Long: `Every 'archivd serve' on the catalog is a node: it registers its id
(node_id, else the hostname), name, BitTorrent address, zone, tags, data
roots and version, and refreshes them every 10 s. A node is up while it
has been seen within the last 30 s (by the database's clock) and has not
stopped cleanly; down otherwise.

An operator's admin state is separate from up/down:
  draining     everything is to move off the node before it leaves: its
               replicas are placed elsewhere, then removed from it (files
               deleted only where the planner placed them)
               (way out: archivd node undrain NODE)
  maintenance  the node is expected to be away: it is never marked out
               for being down (way out: archivd node maintenance --off NODE)
and, separately, out: its replicas do not count as copies and are placed
elsewhere, but stay on it (marked automatically when down longer than
fleet.down_out_interval, or by 'archivd node out'; way out: archivd node in
NODE, or the node starting again after an automatic out).`,
	}
	cmd.AddCommand(newNodeListCmd(a), newNodeShowCmd(a), newNodeAdminCmd(a, "drain"), newNodeAdminCmd(a, "undrain"),
		newNodeAdminCmd(a, "maintenance"), newNodeOutCmd(a, true), newNodeOutCmd(a, false), newNodeForgetCmd(a))
	return cmd
}

type nodeListOptions struct{ JSON bool }

func newNodeListCmd(a *app) *cobra.Command {
	var o nodeListOptions
	return newListingCmd("List the nodes: up or down, admin state, zone, address, space", "no arguments", &o.JSON,
		func(ctx context.Context) error { return runNodeList(ctx, a, o) })
}

func runNodeList(ctx context.Context, a *app, o nodeListOptions) error {
	return a.withCatalog(ctx, "node list", func(db *catalog.DB) error {
		ns, err := db.Nodes(ctx)
		if err != nil {
			return fmt.Errorf("node list: %w", err)
		}
		return printList(a.stdout, o.JSON, ns, "ID\tNAME\tSTATUS\tZONE\tADDRESS\tFREE\tSEEN\tVERSION", func(n catalog.Node) string {
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", n.ID, orDash(n.Name), n.Status(), orDash(n.Zone),
				orDash(n.BTAddr), nodeSpace(n), seen(n), orDash(n.Version))
		})
	})
}

// nodeSpace is "free of capacity", or "-" before the node reported any.
func nodeSpace(n catalog.Node) string {
	if n.CapacityBytes == 0 {
		return "-"
	}
	return human.Bytes(n.FreeBytes) + " of " + human.Bytes(n.CapacityBytes)
}

// seen says how long ago a down node was last seen ("" while up: "now").
func seen(n catalog.Node) string {
	switch {
	case n.Up:
		return "now"
	case n.LastSeenAt == nil:
		return "never"
	}
	return (time.Duration(n.DownSeconds) * time.Second).String() + " ago"
}

type nodeShowOptions struct {
	ID   string
	JSON bool
}

func newNodeShowCmd(a *app) *cobra.Command {
	var o nodeShowOptions
	cmd := newOneArgCmd("show NODE", "Show one node: address, zone, tags, data roots, state", "a NODE id", &o.ID,
		func(ctx context.Context) error { return runNodeShow(ctx, a, o) })
	jsonFlag(cmd, &o.JSON)
	return cmd
}

func runNodeShow(ctx context.Context, a *app, o nodeShowOptions) error {
	load := func(db *catalog.DB) (catalog.Node, error) { return lookupNode(ctx, a, db, "node show", o.ID) }
	return showOne(ctx, a, "node show", o.JSON, load, func(n catalog.Node) {
		a.printf("id:          %s\nname:        %s\nstatus:      %s\nlast seen:   %s\n", n.ID, orDash(n.Name), n.Status(), seen(n))
		a.printf("address:     %s\nzone:        %s\ntags:        %s\nversion:     %s\nhostname:    %s\n",
			orDash(n.BTAddr), orDash(n.Zone), orDash(strings.Join(n.Tags, " ")), orDash(n.Version), orDash(n.Hostname))
		admin := string(n.Admin)
		if n.AdminAt != nil && n.Admin != catalog.NodeActive {
			admin += " since " + stampTime(*n.AdminAt)
			if n.AdminReason != "" {
				admin += " (" + n.AdminReason + ")"
			}
		}
		a.printf("admin state: %s\n", admin)
		if n.Out {
			a.printf("out:         since %s: %s\n", stampTime(*n.OutAt), n.OutReason)
		}
		a.printf("space:       %s\n", nodeSpace(n))
		a.printf("replicas:    %s\n", nodeReplicasLine(n))
		for _, r := range n.Roots {
			a.printf("data root:   %s: %s free of %s\n", r.Path, human.Bytes(r.FreeBytes), human.Bytes(r.CapacityBytes))
		}
	})
}

func stampTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// lookupNode reads node id; an unknown id is an error naming it and the
// command that lists the nodes there are.
func lookupNode(ctx context.Context, a *app, db *catalog.DB, what, id string) (catalog.Node, error) {
	n, err := db.Node(ctx, id)
	if err != nil {
		return n, fmt.Errorf("%s: %w (the nodes there are: %s node list)", what, err, a.cliPrefix())
	}
	return n, nil
}

// nodeReplicasLine says what a node holds: "12 (3 being removed, the only
// replica of 1 torrent)"; for a draining node, what is left to move.
func nodeReplicasLine(n catalog.Node) string {
	r := n.Replicas
	s := fmt.Sprintf("%d", r.Replicas)
	if n.Admin == catalog.NodeDraining {
		s += " left to move off"
	}
	var more []string
	if r.Removing > 0 {
		more = append(more, fmt.Sprintf("%d being removed", r.Removing))
	}
	if r.OnlyCopy > 0 {
		more = append(more, fmt.Sprintf("the only replica of %d torrents", r.OnlyCopy))
	}
	if len(more) > 0 {
		s += " (" + strings.Join(more, ", ") + ")"
	}
	if n.Admin == catalog.NodeDraining && r.Replicas == 0 {
		s += ": drained, it can be forgotten once stopped (archivd node forget " + n.ID + ")"
	}
	return s
}
