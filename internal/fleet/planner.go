package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/rs/zerolog"
)

// Planner runs on every node: each pass it settles the replicas placed
// on its own node (chooses their data directory, so its engine fetches
// them) and removes its replicas marked for removal, then, if it leads the
// planner (the catalog's lease), marks out the nodes down too long, places
// the replicas the torrents under their replicas_min lack, and (unless
// norebalance is set) marks for removal the surplus copies above
// replicas_max and the copies on draining nodes that are no longer needed.
type Planner struct {
	DB   *catalog.DB // bound to this node
	Node string
	// Policy is read at each pass (a reload applies at the next one).
	Policy func() Policy
	// DirsFor is where this node keeps the data of torrents placed on it:
	// their directories in order, up to the first it could not choose, and
	// that error (see importer.PlacedDirs).
	DirsFor func(context.Context, []catalog.Torrent) ([]string, error)
	// Release makes sure a torrent is out of this node's engine and reports
	// whether it is (nil: there is no engine); see seeder.Release.
	Release func(context.Context, int64) (bool, error)
	// Sending, if set, gets at each pass the torrents other nodes are
	// recovering from this one (catalog.RecoveringFromHere): their reads
	// for peers wait for fleet.recovery_send_rate (seeder.SetRecoverySending).
	Sending func([]int64)
	Log     zerolog.Logger

	leading bool
	sending int    // the count of torrents last given to Sending, logged when it changes
	held    string // the last held nodes logged
	stalled int    // the count of stalled placed replicas last logged
}

// Run makes passes every Policy().Interval until ctx ends, then gives the
// lease up.
func (p *Planner) Run(ctx context.Context) {
	r := &backoff.Retry{Backoff: backoff.Backoff{Min: time.Second, Max: 30 * time.Second}, Log: p.Log,
		What: "fleet planner: settle placed replicas, mark nodes out, place replicas"}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if p.leading {
			_ = p.DB.ResignPlanner(rctx, p.Node) // best effort: the lease expires anyway
		}
	}()
	for {
		wait := p.Policy().WithDefaults().Interval
		if err := p.Pass(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = r.Fail(err)
		} else {
			r.OK()
		}
		if backoff.Sleep(ctx, wait) != nil {
			return
		}
	}
}

// Pass is one pass (see Planner). It logs at debug how long each step
// took (settle_ms, sending_ms, sample_ms, remove_ms, lease_ms, out_ms, place_ms,
// balance_ms, trim_ms, took_ms), at info when the pass took longer than the plan
// interval.
func (p *Planner) Pass(ctx context.Context) error {
	pt := passTimer{start: time.Now(), last: time.Now()}
	err := p.pass(ctx, &pt)
	took := time.Since(pt.start)
	ev := p.Log.Debug()
	if took > p.Policy().WithDefaults().Interval {
		ev = p.Log.Info()
	}
	ev = ev.Bool("leading", p.leading).Int("placed", pt.placed).Int("marked", pt.marked).Int64("took_ms", took.Milliseconds())
	for _, s := range pt.steps {
		ev = ev.Int64(s.name+"_ms", s.ms)
	}
	if err != nil {
		ev = ev.Err(err)
	}
	ev.Msg("fleet planner: pass")
	return err
}

// passTimer records how long the steps of a pass took.
type passTimer struct {
	start, last    time.Time
	steps          []passStep
	placed, marked int
}

type passStep struct {
	name string
	ms   int64
}

// step records the time since the previous step as step name's.
func (pt *passTimer) step(name string) {
	now := time.Now()
	pt.steps = append(pt.steps, passStep{name, now.Sub(pt.last).Milliseconds()})
	pt.last = now
}

func (p *Planner) pass(ctx context.Context, pt *passTimer) error {
	if err := p.settle(ctx); err != nil {
		return err
	}
	pt.step("settle")
	if err := p.listSending(ctx); err != nil {
		return err
	}
	pt.step("sending")
	if err := p.DB.SampleRecovery(ctx); err != nil { // fleet status's recovery rate
		return err
	}
	pt.step("sample")
	if err := p.removeMarked(ctx); err != nil {
		return err
	}
	pt.step("remove")
	return p.leaderPass(ctx, pt)
}

// leaderPass is the part of a pass that only the planner's leader makes:
// it takes or renews the lease, and if it leads marks nodes out, places,
// rebalances and trims.
func (p *Planner) leaderPass(ctx context.Context, pt *passTimer) error {
	pol := p.Policy().WithDefaults()
	lead, err := p.DB.LeadPlanner(ctx, p.Node, pol.LeaseTTL())
	if err != nil {
		return err
	}
	pt.step("lease")
	if lead != p.leading {
		p.Log.Info().Str("node", p.Node).Bool("leading", lead).Msg("fleet planner: leadership changed")
		p.leading = lead
	}
	if !lead {
		return nil
	}
	if err := p.markOut(ctx, pol); err != nil {
		return err
	}
	pt.step("out")
	norecover, err := p.DB.FleetFlagIsSet(ctx, catalog.FlagNoRecover)
	if err != nil {
		return err
	}
	placed, err := p.DB.PlanPass(ctx, p.Node, pol.StallAfter, func(ns []catalog.PlanNode, ts []catalog.PlanTorrent) []catalog.PlanPlacement {
		p.logStalled(ns, pol)
		return Choose(ns, ts, Options{SkipLost: norecover, MaxRecoveries: pol.MaxRecoveriesPerNode})
	})
	if err != nil {
		return err
	}
	for _, pl := range placed {
		p.Log.Info().Int64("torrent_id", pl.TorrentID).Str("to_node", pl.Node).Msg("fleet planner: replica placed")
	}
	pt.placed = len(placed)
	pt.step("place")
	pt.marked, err = p.trim(ctx, pol, len(placed) > 0, pt)
	if err != nil {
		return err
	}
	pt.step("trim")
	return nil
}

// trim rebalances (see PlanBalance; no new move when this pass placed a
// replica or a recovery is fetching) and marks for removal what ChooseTrim
// gives but for the torrents with a move in flight, unless norebalance is
// set (healthy data is then neither moved nor trimmed nor moved off
// draining nodes; recovery of torrents under replicas_min goes on).
func (p *Planner) trim(ctx context.Context, pol Policy, placed bool, pt *passTimer) (int, error) {
	norebalance, err := p.DB.FleetFlagIsSet(ctx, catalog.FlagNoRebalance)
	if err != nil || norebalance {
		return 0, err
	}
	moving, err := p.balance(ctx, pol, placed)
	if err != nil {
		return 0, err
	}
	pt.step("balance")
	marked, err := p.DB.TrimPass(ctx, p.Node, func(ts []catalog.TrimTorrent) []catalog.TrimMark {
		return ChooseTrim(slices.DeleteFunc(ts, func(t catalog.TrimTorrent) bool { return moving[t.ID] }))
	})
	if err != nil {
		return 0, err
	}
	for _, m := range marked {
		p.Log.Info().Int64("torrent_id", m.TorrentID).Str("from_node", m.Node).Str("reason", m.Reason).
			Msg("fleet planner: replica marked for removal")
	}
	return len(marked), nil
}

// markOut marks out the nodes OutDecision gives, unless noout is set, and
// logs the held ones when they change.
func (p *Planner) markOut(ctx context.Context, pol Policy) error {
	noout, err := p.DB.FleetFlagIsSet(ctx, catalog.FlagNoOut)
	if err != nil || noout {
		return err
	}
	nodes, err := p.DB.NodeStates(ctx)
	if err != nil {
		return err
	}
	out, held := OutDecision(nodes, pol)
	if len(out) > 0 {
		marked, err := p.DB.MarkNodesOut(ctx, p.Node, out, fmt.Sprintf("down longer than fleet.down_out_interval %s", pol.DownOut))
		if err != nil {
			return err
		}
		for _, id := range marked {
			p.Log.Warn().Str("node", id).Int64("down_out_interval_ms", pol.DownOut.Milliseconds()).Msg("fleet planner: node marked out: its replicas are placed elsewhere")
		}
	}
	var ids []string
	for _, h := range held {
		ids = append(ids, h.Node.ID+": "+h.Why)
	}
	if s := strings.Join(ids, "; "); s != p.held {
		p.held = s
		if s != "" {
			p.Log.Error().Str("held", s).Msg("fleet planner: nodes down too long are held in by the mass-failure guard (FLEET_OUT_HELD)")
		}
	}
	return nil
}

// listSending gives Sending the torrents other nodes are recovering from
// this one while the policy bounds them (none once it stops), and logs
// their count when it changes.
func (p *Planner) listSending(ctx context.Context) error {
	if p.Sending == nil {
		return nil
	}
	var ids []int64
	if p.Policy().SendLimited {
		var err error
		if ids, err = p.DB.RecoveringFromHere(ctx); err != nil {
			return err
		}
	} else if p.sending == 0 {
		return nil
	}
	p.Sending(ids)
	if len(ids) != p.sending {
		p.sending = len(ids)
		p.Log.Debug().Int("recovering_from_here", len(ids)).
			Msg("fleet: torrents other nodes are recovering from this node (their reads for peers wait for fleet.recovery_send_rate)")
	}
	return nil
}

// settle chooses the data directory of the replicas placed on this node;
// those chosen before an error are settled, then the error is returned.
func (p *Planner) settle(ctx context.Context) error {
	ts, err := p.DB.PlacedReplicas(ctx)
	if err != nil || len(ts) == 0 {
		return err
	}
	dirs, dirErr := p.DirsFor(ctx, ts)
	ids := make([]int64, len(dirs))
	for i := range dirs {
		ids[i] = ts[i].ID
	}
	if err := p.DB.SettleReplicas(ctx, ids, dirs); err != nil {
		return err
	}
	for i, dir := range dirs {
		t := ts[i]
		p.Log.Info().Str("torrent", t.HexHash()).Str("name", t.Name).Str("data_dir", dir).
			Msg("fleet: replica placed on this node: fetching it from the nodes holding copies")
	}
	return dirErr
}

// balance runs the rebalance pass and returns the torrents with a move in
// flight after it.
func (p *Planner) balance(ctx context.Context, pol Policy, placed bool) (map[int64]bool, error) {
	plan, err := p.DB.BalancePass(ctx, p.Node, pol.StallAfter, func(in catalog.BalanceInput) (catalog.BalancePlan, error) {
		ns := make([]catalog.PlanNode, len(in.Nodes))
		for i, n := range in.Nodes {
			ns[i] = n.PlanNode
		}
		p.logStalled(ns, pol)
		return PlanBalance(in, BalanceOptions{Margin: pol.BalanceMargin, MaxMoves: pol.MaxRecoveriesPerNode,
			NoStart: placed || RecoveryFetching(in)})
	})
	if err != nil {
		return nil, err
	}
	for _, m := range plan.Start {
		p.Log.Info().Int64("torrent_id", m.TorrentID).Str("from_node", m.From).Str("to_node", m.To).Str("reason", m.Reason).
			Msg("fleet planner: rebalance: move started (a copy placed on the target)")
	}
	for _, m := range plan.Finish {
		p.Log.Info().Int64("torrent_id", m.TorrentID).Str("from_node", m.From).Str("to_node", m.To).
			Msg("fleet planner: rebalance: move done (the source's copy marked for removal)")
	}
	for _, m := range append(plan.End, plan.Abandon...) {
		p.Log.Warn().Int64("torrent_id", m.TorrentID).Str("from_node", m.From).Str("to_node", m.To).Str("reason", m.Reason).
			Msg("fleet planner: rebalance: move stopped")
	}
	moving := map[int64]bool{}
	for _, id := range plan.InFlight {
		moving[id] = true
	}
	return moving, nil
}

// logStalled logs, when it changes, how many placed replicas are stalled
// (the leader's view: every node's).
func (p *Planner) logStalled(ns []catalog.PlanNode, pol Policy) {
	n := 0
	var on []string
	for _, nd := range ns {
		if nd.Stalled > 0 {
			n += nd.Stalled
			on = append(on, fmt.Sprintf("%s: %d", nd.ID, nd.Stalled))
		}
	}
	if n == p.stalled {
		return
	}
	ev := p.Log.Warn()
	if n < p.stalled {
		ev = p.Log.Info()
	}
	p.stalled = n
	ev.Int("stalled", n).Strs("nodes", on).Int64("recovery_stall_after_ms", pol.StallAfter.Milliseconds()).
		Msg("fleet planner: placed replicas stalled (no progress for fleet.recovery_stall_after): they stay placed but no longer take recovery slots ('archivd fleet status')")
}

// RecoveryFetching reports a replica placed to bring a torrent back to
// its replicas_min still fetching on a node up and in: the placed replicas
// fetching (catalog.PlanNode.Recovering, which leaves the stalled ones
// out) outnumber the moves in flight fetching and not stalled. A stalled
// recovery does not hold the rebalance.
func RecoveryFetching(in catalog.BalanceInput) bool {
	live := map[string]bool{}
	placed := 0
	for _, n := range in.Nodes {
		if n.Up && n.In {
			live[n.ID] = true
			placed += n.Recovering
		}
	}
	for _, t := range in.Moving {
		for _, r := range t.Replicas {
			if r.MoveFrom != "" && !r.Marked && !r.Complete && !r.Stalled && live[r.Node] {
				placed--
			}
		}
	}
	return placed > 0
}
