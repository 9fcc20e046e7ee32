package health

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
)

// checkFleetFlags raises FLEETFLAGS_SET (WARN) while an operator's fleet
// flag holds back what the fleet does by itself (Ceph's OSDMAP_FLAGS).
func (e *Evaluator) checkFleetFlags(ctx context.Context, r *Report) error {
	fs, err := e.db.SetFleetFlags(ctx)
	if err != nil || len(fs) == 0 {
		return err
	}
	names := make([]string, len(fs))
	lines := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f.Flag)
		lines[i] = fmt.Sprintf("%s set %s by %s%s: %s", f.Flag, stamp(&f.SetAt), f.SetBy, reason(f.Reason), flagEffect[f.Flag])
	}
	r.add(Check{Code: FleetFlagsSet, Severity: Warn, Count: len(fs), Detail: lines,
		Summary: fmt.Sprintf("%s set: %s", plural(len(fs), "fleet flag", "fleet flags"), strings.Join(names, ", ")),
		Command: e.cmd("fleet", "unset", names[0]),
		Hint:    "once the work they were set for is done, unset each flag ('archivd fleet status' lists them)"})
	return nil
}

var flagEffect = map[catalog.FleetFlag]string{
	catalog.FlagNoOut:       "down nodes are not marked out",
	catalog.FlagNoRebalance: "no data moves for balance",
	catalog.FlagNoRecover:   "lost replicas are not recreated",
	catalog.FlagNoScrub:     "scheduled scrubs do not start",
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}

// checkNodes raises, in a fleet (more than one node, one of them up):
// NODE_DOWN (WARN) for nodes down and still in (their replicas count but
// serve nothing; in maintenance they are expected away and not raised);
// FLEET_OUT_HELD (ERR) for those down longer than fleet.down_out_interval
// that the mass-failure guard keeps in (noout is FLEETFLAGS_SET's).
func (e *Evaluator) checkNodes(ctx context.Context, r *Report) error {
	ns, err := e.db.Nodes(ctx)
	if err != nil {
		return err
	}
	up := 0
	var down []string
	for _, n := range ns {
		if n.Up {
			up++
		} else if !n.Out && n.Admin != catalog.NodeMaintenance {
			down = append(down, fmt.Sprintf("%s (%s): down for %s, last seen %s", n.ID, n.Status(),
				time.Duration(n.DownSeconds*float64(time.Second)).Round(time.Second), stamp(n.LastSeenAt)))
		}
	}
	if len(ns) < 2 || up == 0 || len(down) == 0 {
		return nil
	}
	pol := e.config().Fleet.WithDefaults()
	r.add(Check{Code: NodeDown, Severity: Warn, Count: len(down), Detail: down[:min(len(down), MaxDetail)],
		Summary: plural(len(down), "node is", "nodes are") + " down: their replicas serve nothing",
		Command: e.cmd("fleet", "status"),
		Hint: fmt.Sprintf("start it again; a node down longer than fleet.down_out_interval (%s) is marked out and its replicas placed elsewhere",
			pol.DownOut)})
	noout, err := e.db.FleetFlagIsSet(ctx, catalog.FlagNoOut)
	if err != nil || noout {
		return err
	}
	_, held := fleet.OutDecision(ns, pol)
	if len(held) == 0 {
		return nil
	}
	lines := make([]string, len(held))
	for i, h := range held {
		lines[i] = h.Node.ID + ": " + h.Why
	}
	r.add(Check{Code: FleetOutHeld, Severity: Err, Count: len(held), Detail: lines[:min(len(lines), MaxDetail)],
		Summary: plural(len(held), "node down too long is", "nodes down too long are") + " held in by the mass-failure guard: their replicas are not placed elsewhere",
		Command: e.cmd("node", "list"),
		Hint:    "bring the nodes back; if they are gone for good, raise fleet.out_max_share on the nodes (a reload applies it) so the planner marks them out"})
	return nil
}
