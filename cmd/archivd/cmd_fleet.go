package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/human"
	"github.com/spf13/cobra"
)

func newFleetCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Fleet status and the fleet-wide flags noout, norebalance, norecover, noscrub",
		Long: `The nodes of a shared catalog form a fleet. Flags hold back what the fleet
does by itself, while set (shown by 'archivd health' as FLEETFLAGS_SET,
on the status page and in /metrics):
  noout        no down node is marked out automatically
  norebalance  no healthy data is trimmed (copies above replicas_max) or
               removed from draining nodes; recovery goes on
  norecover    lost replicas are not recreated
  noscrub      scheduled scrubs do not start (manual 'archivd verify' still runs)
Way out of each: archivd fleet unset FLAG.`,
	}
	cmd.AddCommand(newFleetFlagCmd(a, "set"), newFleetFlagCmd(a, "unset"), newFleetStatusCmd(a))
	return cmd
}

type fleetFlagOptions struct {
	Flag   string
	Action string // set | unset
	Reason string
}

func newFleetFlagCmd(a *app, action string) *cobra.Command {
	o := fleetFlagOptions{Action: action}
	cmd := &cobra.Command{
		Use:   action + " FLAG",
		Short: map[string]string{"set": "Set a fleet flag (noout, norebalance, norecover, noscrub)", "unset": "Clear a fleet flag"}[action],
		Args:  exactArgs(1, "a FLAG (noout, norebalance, norecover, noscrub)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Flag = args[0]
			return runFleetFlag(cmd.Context(), a, o)
		},
	}
	if action == "set" {
		cmd.Flags().StringVar(&o.Reason, "reason", "", "why, shown while the flag is set")
	}
	return cmd
}

func runFleetFlag(ctx context.Context, a *app, o fleetFlagOptions) error {
	what := "fleet " + o.Action
	flag, err := catalog.ParseFleetFlag(o.Flag)
	if err != nil {
		return usageErrorf("%s: %v", what, err)
	}
	return a.withCatalog(ctx, what, func(db *catalog.DB) error {
		if o.Action == "unset" {
			was, err := db.UnsetFleetFlag(ctx, flag)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if !was {
				a.printf("%s: was not set\n", flag)
			} else {
				a.printf("%s: unset\n", flag)
			}
			return nil
		}
		was, err := db.SetFleetFlag(ctx, flag, operator(), o.Reason)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if was {
			a.printf("%s: already set (way out: %s fleet unset %s)\n", flag, a.cliPrefix(), flag)
		} else {
			a.printf("%s: set (way out: %s fleet unset %s)\n", flag, a.cliPrefix(), flag)
		}
		return nil
	})
}

// operator names who sets a flag: user@host.
func operator() string {
	name := "?"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

type fleetStatusOptions struct{ JSON bool }

func newFleetStatusCmd(a *app) *cobra.Command {
	var o fleetStatusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Nodes up, down, draining, in maintenance and out; flags set; space; data at risk",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runFleetStatus(cmd.Context(), a, o) },
	}
	jsonFlag(cmd, &o.JSON)
	return cmd
}

// fleetStatus is what 'fleet status --json' prints.
type fleetStatus struct {
	Nodes         catalog.NodeCounts     `json:"nodes"`
	Flags         []catalog.FleetFlagSet `json:"flags"`
	CapacityBytes int64                  `json:"capacity_bytes"` // of the nodes up
	FreeBytes     int64                  `json:"free_bytes"`
	Down          []catalog.Node         `json:"down"` // the nodes down, with how long
	// Draining: the draining nodes, with what is left on them (Replicas).
	Draining    []catalog.Node `json:"draining"`
	Torrents    int64          `json:"torrents"`
	StoredBytes int64          `json:"stored_bytes"`
	// Copies: complete copies per torrent, torrents under replicas_min
	// and at risk, replicas being fetched (the replicas table).
	Copies catalog.CopyStats `json:"copies"`
	// Leader is the node leading the fleet planner ("" = none now).
	Leader string `json:"planner_leader"`
	// Recovery: the replicas placed by the planner still fetching, what
	// they lack, the rate over the last minute and the ETA at that rate;
	// those stalled apart.
	Recovery catalog.RecoveryStats `json:"recovery"`
	// Stalled: the stalled placed replicas (no progress for
	// fleet.recovery_stall_after), stalled longest first, at most
	// stalledListed of them (Recovery.Stalled counts them all).
	Stalled []catalog.StalledReplica `json:"stalled"`
	// Balance: each member node's replica bytes against its share, and
	// the rebalance moves in flight.
	Balance balanceStatus `json:"balance"`
}

// balanceStatus is the rebalance part of fleet status.
type balanceStatus struct {
	// Margin: fleet.balance_margin of this node's config (the leader's
	// applies).
	Margin        float64       `json:"margin"`
	MovesInFlight int           `json:"moves_in_flight"`
	Nodes         []fleet.Share `json:"nodes"`
}

// recoveryWindow is what fleet status's recovery rate is measured over.
const recoveryWindow = time.Minute

func runFleetStatus(ctx context.Context, a *app, o fleetStatusOptions) error {
	return a.withCatalog(ctx, "fleet status", func(db *catalog.DB) error {
		st, err := readFleetStatus(ctx, db, a.cfg.Fleet.BalanceMargin, a.cfg.Fleet.RecoveryStallAfter)
		if err != nil {
			return fmt.Errorf("fleet status: %w", err)
		}
		if o.JSON {
			return printJSON(a.stdout, st)
		}
		c := st.Nodes
		a.printf("nodes:    %d: %d up, %d down; %d draining, %d in maintenance, %d out\n",
			c.Total, c.Up, c.Down, c.Draining, c.Maintenance, c.Out)
		for _, n := range st.Down {
			a.printf("  down:   %s (%s), last seen %s\n", n.ID, n.Status(), seen(n))
		}
		for _, n := range st.Draining {
			a.printf("  draining: %s: replicas %s\n", n.ID, nodeReplicasLine(n))
		}
		if len(st.Flags) == 0 {
			a.printf("flags:    none set\n")
		}
		for _, f := range st.Flags {
			a.printf("flag:     %s set %s by %s%s (way out: %s fleet unset %s)\n", f.Flag, stampTime(f.SetAt), orDash(f.SetBy),
				reasonSuffix(f.Reason), a.cliPrefix(), f.Flag)
		}
		a.printf("space:    %s free of %s on the nodes up\n", human.Bytes(st.FreeBytes), human.Bytes(st.CapacityBytes))
		a.printf("torrents: %d (%s)\n", st.Torrents, human.Bytes(st.StoredBytes))
		printCopies(a, st)
		return nil
	})
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

func readFleetStatus(ctx context.Context, db *catalog.DB, margin float64, stall time.Duration) (fleetStatus, error) {
	var st fleetStatus
	ns, err := db.Nodes(ctx)
	if err != nil {
		return st, err
	}
	st.Nodes = catalog.CountNodes(ns)
	st.Down, st.Draining = []catalog.Node{}, []catalog.Node{}
	for _, n := range ns {
		if n.Admin == catalog.NodeDraining {
			st.Draining = append(st.Draining, n)
		}
		if n.Up {
			st.CapacityBytes += n.CapacityBytes
			st.FreeBytes += n.FreeBytes
		} else {
			st.Down = append(st.Down, n)
		}
	}
	if st.Flags, err = db.SetFleetFlags(ctx); err != nil {
		return st, err
	}
	if st.Flags == nil {
		st.Flags = []catalog.FleetFlagSet{}
	}
	if st.Torrents, st.StoredBytes, err = db.TorrentTotals(ctx); err != nil {
		return st, err
	}
	if st.Copies, err = db.Copies(ctx); err != nil {
		return st, err
	}
	if st.Leader, err = db.PlannerLeader(ctx); err != nil {
		return st, err
	}
	if st.Recovery, err = db.Recovery(ctx, recoveryWindow, stall); err != nil {
		return st, err
	}
	if st.Stalled, _, err = db.StalledReplicas(ctx, stall, "", stalledListed); err != nil {
		return st, err
	}
	bn, moving, err := db.BalanceNodes(ctx, stall)
	if err != nil {
		return st, err
	}
	st.Balance = balanceStatus{Margin: margin, Nodes: fleet.Shares(bn, moving, margin)}
	for _, sh := range st.Balance.Nodes {
		st.Balance.MovesInFlight += sh.MovesIn
	}
	if st.Balance.Nodes == nil {
		st.Balance.Nodes = []fleet.Share{}
	}
	return st, nil
}

// printBalance prints the balance lines of fleet status.
func printBalance(a *app, b balanceStatus) {
	a.printf("balance:  %s in flight; margin %g of each share (nodes up, active and in)\n", plural(b.MovesInFlight, "move", "moves"), b.Margin)
	for _, n := range b.Nodes {
		a.printf("  %s: %s of share %s (%+.1f%%, %s), moves in %d, out %d\n", n.Node, human.Bytes(n.LoadBytes), human.Bytes(n.ShareBytes),
			n.DevPercent(), n.State(), n.MovesIn, n.MovesOut)
	}
}

// printCopies prints the copies lines of fleet status.
func printCopies(a *app, st fleetStatus) {
	c := st.Copies
	var parts []string
	for _, b := range c.ByCopies {
		parts = append(parts, fmt.Sprintf("%d with %s", b.Torrents, plural(b.Copies, "copy", "copies")))
	}
	if len(parts) == 0 {
		parts = []string{"no torrents"}
	}
	a.printf("copies:   %s (complete copies on nodes in)\n", strings.Join(parts, ", "))
	a.printf("under min: %d torrents (%s) have fewer copies than their replicas_min\n", c.UnderMin, human.Bytes(c.UnderMinBytes))
	a.printf("at risk:  %d torrents (%s) have fewer copies on nodes up than their replicas_min\n", c.AtRisk, human.Bytes(c.AtRiskBytes))
	a.printf("fetching: %d replicas, %s to go\n", c.Fetching, human.Bytes(c.FetchingBytes))
	a.printf("planner:  %s\n", orDash(st.Leader))
	printRecovery(a, st.Recovery)
	printStalled(a, st.Recovery, st.Stalled)
	printBalance(a, st.Balance)
}

// printRecovery prints the recovery lines of fleet status.
func printRecovery(a *app, r catalog.RecoveryStats) {
	if r.Fetching == 0 {
		a.printf("recovery: no replica placed by the planner is fetching\n")
	} else {
		a.printf("recovery: %s placed fetching, %s left, %s/s over the last %s, ETA %s\n", plural(int(r.Fetching), "replica", "replicas"),
			human.Bytes(r.BytesLeft), human.Bytes(int64(r.BytesPerSec)), time.Duration(r.Window*float64(time.Second)), eta(r.ETASeconds))
	}
	for _, n := range r.Nodes {
		a.printf("  %s: %d fetching, %s left, %s/s%s\n", n.Node, n.Fetching, human.Bytes(n.BytesLeft), human.Bytes(int64(n.BytesPerSec)),
			stalledSuffix(n))
	}
}

// eta is an ETA in seconds as a duration, or "unknown" (nothing fetched lately).
func eta(s *float64) string {
	if s == nil {
		return "unknown (nothing fetched in the window)"
	}
	return time.Duration(*s * float64(time.Second)).Round(time.Second).String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
