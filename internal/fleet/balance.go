package fleet

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/archivd/archivd/internal/catalog"
)

// Rebalance (issue 12, item 5): a node holding clearly less than its share
// of the replica bytes gets replicas moved to it from the nodes holding
// more than theirs. See PlanBalance and docs/ARCHITECTURE.md, "Rebalance".

// BalanceOptions are what PlanBalance goes by besides the catalog's facts.
type BalanceOptions struct {
	// Margin is the hysteresis, a share of each node's share
	// (fleet.balance_margin, default 0.1): a node is under-full below
	// share x (1 - Margin); a move never takes a source below that, nor a
	// target above share x (1 + Margin).
	Margin float64
	// MaxMoves bounds the moves in flight from one node and the placed
	// replicas fetching on one (recoveries and moves together)
	// (fleet.max_recoveries_per_node); 0 = no bound.
	MaxMoves int
	// NoStart: start no new move (recovery comes first: a replica placed
	// to bring a torrent back to replicas_min is fetching, or this pass
	// placed one). Moves in flight are still finished or abandoned.
	NoStart bool
}

// candidatesPerSource bounds the torrents read per source node each pass.
const candidatesPerSource = 64

// Share is a member node's share of the fleet's replica bytes.
type Share struct {
	Node string `json:"node"`
	// LoadBytes: its replicas' bytes, less those moving away from it
	// (replicas arriving count).
	LoadBytes  int64 `json:"load_bytes"`
	ShareBytes int64 `json:"share_bytes"`
	// Margin: the hysteresis in bytes (share x margin).
	MarginBytes int64 `json:"margin_bytes"`
	// MovesIn, MovesOut: moves in flight to and from it.
	MovesIn  int `json:"moves_in"`
	MovesOut int `json:"moves_out"`
}

// Dev is how far its load is from its share (negative: under).
func (s Share) Dev() int64 { return s.LoadBytes - s.ShareBytes }

// Under reports a node clearly under its share (below it by more than the margin).
func (s Share) Under() bool { return s.Dev() < -s.MarginBytes }

// Over reports a node clearly over its share.
func (s Share) Over() bool { return s.Dev() > s.MarginBytes }

// DevPercent is Dev as a percentage of the share (0 for no share).
func (s Share) DevPercent() float64 {
	if s.ShareBytes <= 0 {
		return 0
	}
	return 100 * (float64(s.LoadBytes)/float64(s.ShareBytes) - 1)
}

// State names where the load stands: "under", "over" or "within the
// margin".
func (s Share) State() string {
	switch {
	case s.Under():
		return "under"
	case s.Over():
		return "over"
	}
	return "within the margin"
}

// Shares computes each member node's share (catalog.BalanceNode.Member:
// up, in, active): the member nodes' loads summed, split in proportion to
// their capacity (the file systems of their data roots), or equally when
// a member's capacity is unknown (0). A node's load is its replicas' bytes
// less those of the moves in flight away from it. Non-members hold no
// share: a draining node's data goes by placement and drain, not by
// rebalance.
func Shares(nodes []catalog.BalanceNode, moving []catalog.BalanceTorrent, margin float64) []Share {
	out := map[string]int64{}
	movesIn, movesOut := map[string]int{}, map[string]int{}
	for _, t := range moving {
		for _, r := range t.Replicas {
			if r.MoveFrom == "" || r.Marked {
				continue
			}
			movesIn[r.Node]++
			movesOut[r.MoveFrom]++
			if src := replicaOn(t, r.MoveFrom); src != nil && !src.Marked {
				out[r.MoveFrom] += t.Length
			}
		}
	}
	var total, weights float64
	equal := false
	for _, n := range nodes {
		if n.Member() {
			total += float64(n.LoadBytes - out[n.ID])
			weights += float64(n.CapacityBytes)
			equal = equal || n.CapacityBytes <= 0
		}
	}
	var ss []Share
	for _, n := range nodes {
		if !n.Member() {
			continue
		}
		w := float64(n.CapacityBytes) / weights
		if equal {
			w = 0
		}
		ss = append(ss, Share{Node: n.ID, LoadBytes: n.LoadBytes - out[n.ID], ShareBytes: int64(total * w),
			MovesIn: movesIn[n.ID], MovesOut: movesOut[n.ID]})
	}
	for i := range ss {
		if equal {
			ss[i].ShareBytes = int64(total / float64(len(ss)))
		}
		ss[i].MarginBytes = int64(float64(ss[i].ShareBytes) * margin)
	}
	return ss
}

func replicaOn(t catalog.BalanceTorrent, node string) *catalog.BalanceReplica {
	for i := range t.Replicas {
		if t.Replicas[i].Node == node {
			return &t.Replicas[i]
		}
	}
	return nil
}

// healthy reports a replica that is a full copy now on a node up, in and
// not draining (as catalog.TrimReplica.Healthy).
func healthy(r catalog.BalanceReplica, n catalog.BalanceNode) bool {
	return !r.Marked && r.Complete && r.Available && !r.Damaged && n.Up && n.In && n.Admin != catalog.NodeDraining
}

// PlanBalance decides a rebalance pass (pure but for in.Candidates, which
// reads the catalog):
//
// Moves in flight: a move whose target is no longer a member (down, out,
// draining, in maintenance), or whose target copy is unavailable or
// damaged, is abandoned (the target's copy is marked for removal, the
// source's kept). A move whose source copy is gone or marked ends (the
// target's copy stays, an ordinary copy). A move whose target copy is
// complete finishes: the source's copy is marked for removal, if that
// leaves the torrent replicas_min healthy copies and a copy that passed
// its last scrub when the source's did; else the move ends keeping both
// (the trim takes the surplus by its own rules).
//
// New moves (unless o.NoStart), while a member is beyond the margin of its
// share (see Share): from a member above its share to one below it, one
// of them beyond the margin; the target most under first (relative to its
// share), then the source most over, then the largest torrent that fits,
// such that the source stays at or above share - margin, the target at or
// below share + margin, and the sum of the squared distances to the shares
// falls (no oscillation: every move lowers it; with torrents no larger
// than the margin there is such a move while a member is beyond it). The source's copy must be healthy, the torrent at its
// replicas_min healthy copies or more with no move in flight, the
// source's copy not its only healthy copy that passed its last scrub, the
// target hold no replica of it, have room for it, and the move never
// spread it worse across zones (same zone, or the target's zone holds
// fewer of its copies than the source's). At most o.MaxMoves moves leave
// a node, and a target fetches at most o.MaxMoves placed replicas.
func PlanBalance(in catalog.BalanceInput, o BalanceOptions) (catalog.BalancePlan, error) {
	var plan catalog.BalancePlan
	nodes := map[string]catalog.BalanceNode{}
	for _, n := range in.Nodes {
		nodes[n.ID] = n
	}
	moving := map[int64]bool{}
	for _, t := range in.Moving {
		for _, r := range t.Replicas {
			if r.MoveFrom == "" || r.Marked {
				continue
			}
			m := catalog.BalanceMove{TorrentID: t.ID, From: r.MoveFrom, To: r.Node}
			switch why := settleMove(t, r, nodes); {
			case why.abandon != "":
				m.Reason = why.abandon
				plan.Abandon = append(plan.Abandon, m)
			case why.end != "":
				m.Reason = why.end
				plan.End = append(plan.End, m)
			case why.finish:
				m.Reason = fmt.Sprintf("moved to node %s (rebalance)", r.Node)
				plan.Finish = append(plan.Finish, m)
			default:
				moving[t.ID] = true
			}
		}
	}
	// The moves in flight after these steps, as Shares sees them.
	var still []catalog.BalanceTorrent
	for _, t := range in.Moving {
		if moving[t.ID] {
			still = append(still, t)
		}
	}
	adjusted := slices.Clone(in.Nodes)
	for i, n := range adjusted {
		for _, m := range plan.Finish {
			if m.From == n.ID {
				adjusted[i].LoadBytes -= lengthOf(in.Moving, m.TorrentID)
			}
		}
		for _, m := range plan.Abandon {
			if m.To == n.ID {
				adjusted[i].LoadBytes -= lengthOf(in.Moving, m.TorrentID)
				if r := replicaOn(torrentOf(in.Moving, m.TorrentID), n.ID); r != nil && !r.Complete && !r.Stalled {
					adjusted[i].Recovering--
				}
			}
		}
	}
	if !o.NoStart {
		starts, err := startMoves(adjusted, still, in.Candidates, o)
		if err != nil {
			return plan, err
		}
		plan.Start = starts
		for _, m := range starts {
			moving[m.TorrentID] = true
		}
	}
	for id := range moving {
		plan.InFlight = append(plan.InFlight, id)
	}
	slices.Sort(plan.InFlight)
	return plan, nil
}

type settled struct {
	abandon, end string
	finish       bool
}

// settleMove says what becomes of the move to replica r of t.
func settleMove(t catalog.BalanceTorrent, r catalog.BalanceReplica, nodes map[string]catalog.BalanceNode) settled {
	tn, ok := nodes[r.Node]
	switch {
	case !ok:
		return settled{abandon: fmt.Sprintf("move abandoned: target node %s is gone", r.Node)}
	case !tn.Up:
		return settled{abandon: fmt.Sprintf("move abandoned: target node %s is down", r.Node)}
	case !tn.In:
		return settled{abandon: fmt.Sprintf("move abandoned: target node %s is out", r.Node)}
	case tn.Admin != catalog.NodeActive:
		return settled{abandon: fmt.Sprintf("move abandoned: target node %s is %s", r.Node, tn.Admin)}
	case !r.Available:
		return settled{abandon: fmt.Sprintf("move abandoned: the copy on target node %s is unavailable", r.Node)}
	case r.Damaged:
		return settled{abandon: fmt.Sprintf("move abandoned: the copy on target node %s is damaged", r.Node)}
	}
	src := replicaOn(t, r.MoveFrom)
	if src == nil || src.Marked {
		return settled{end: fmt.Sprintf("move ended: the copy on source node %s is gone: the copy on %s stays", r.MoveFrom, r.Node)}
	}
	if !r.Complete {
		return settled{}
	}
	left, passed := 0, 0
	for _, o := range t.Replicas {
		if o.Node == src.Node || !healthy(o, nodes[o.Node]) {
			continue
		}
		left++
		if o.Scrub == "ok" {
			passed++
		}
	}
	switch {
	case left < t.Min || left == 0:
		return settled{end: fmt.Sprintf("move ended: removing the copy on %s would leave %d healthy copies (replicas_min %d): both stay",
			src.Node, left, t.Min)}
	case src.Scrub == "ok" && passed == 0:
		return settled{end: fmt.Sprintf("move ended: the copy on %s is the only one that passed its last scrub: both stay", src.Node)}
	}
	return settled{finish: true}
}

func torrentOf(ts []catalog.BalanceTorrent, id int64) catalog.BalanceTorrent {
	for _, t := range ts {
		if t.ID == id {
			return t
		}
	}
	return catalog.BalanceTorrent{}
}

func lengthOf(ts []catalog.BalanceTorrent, id int64) int64 { return torrentOf(ts, id).Length }

// startMoves chooses the new moves (see PlanBalance).
func startMoves(nodes []catalog.BalanceNode, moving []catalog.BalanceTorrent,
	candidates func(map[string]int64, int) ([]catalog.BalanceTorrent, error), o BalanceOptions) ([]catalog.BalanceMove, error) {
	ss := Shares(nodes, moving, o.Margin)
	byID := map[string]catalog.BalanceNode{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	share := map[string]*Share{}
	for i := range ss {
		share[ss[i].Node] = &ss[i]
	}
	busy := func(n string) bool {
		return o.MaxMoves > 0 && share[n].MovesOut >= o.MaxMoves
	}
	full := func(n string) bool {
		return o.MaxMoves > 0 && byID[n].Recovering >= o.MaxMoves
	}
	sources := map[string]int64{}
	outside := false // a node beyond the margin: there is work
	for _, s := range ss {
		if (s.Under() && !full(s.Node)) || (s.Over() && !busy(s.Node)) {
			outside = true
		}
		if s.Dev() > 0 && !busy(s.Node) {
			sources[s.Node] = s.Dev() + s.MarginBytes
		}
	}
	if !outside || len(sources) == 0 {
		return nil, nil
	}
	cands, err := candidates(sources, candidatesPerSource)
	if err != nil {
		return nil, fmt.Errorf("read the torrents to move: %w", err)
	}
	slices.SortFunc(cands, func(a, b catalog.BalanceTorrent) int {
		return cmp.Or(cmp.Compare(b.Length, a.Length), cmp.Compare(a.ID, b.ID))
	})
	planned := map[string]int64{} // room taken on a target this pass
	used := map[int64]bool{}
	var out []catalog.BalanceMove
	for {
		// Targets below their share, most under first (relative to their
		// share), then id; sources above theirs, most over first.
		var targets, srcs []*Share
		for i := range ss {
			s := &ss[i]
			if s.Dev() < 0 && !full(s.Node) {
				targets = append(targets, s)
			}
			if s.Dev() > 0 && !busy(s.Node) {
				srcs = append(srcs, s)
			}
		}
		slices.SortFunc(targets, func(a, b *Share) int {
			return cmp.Or(cmp.Compare(float64(a.Dev())/float64(max(a.ShareBytes, 1)), float64(b.Dev())/float64(max(b.ShareBytes, 1))),
				cmp.Compare(a.Node, b.Node))
		})
		slices.SortFunc(srcs, func(a, b *Share) int { return cmp.Or(cmp.Compare(b.Dev(), a.Dev()), cmp.Compare(a.Node, b.Node)) })
		m, ok := pickMove(targets, srcs, cands, byID, planned, used)
		if !ok {
			return out, nil
		}
		out = append(out, m)
		used[m.TorrentID] = true
		b := lengthOf(cands, m.TorrentID)
		planned[m.To] += b
		n := byID[m.To]
		n.Recovering++
		byID[m.To] = n
		share[m.To].LoadBytes += b
		share[m.To].MovesIn++
		share[m.From].LoadBytes -= b
		share[m.From].MovesOut++
	}
}

// pickMove finds the first move that may be made: targets in order, then
// sources in order, then the candidates (largest first).
func pickMove(targets, srcs []*Share, cands []catalog.BalanceTorrent, nodes map[string]catalog.BalanceNode,
	planned map[string]int64, used map[int64]bool) (catalog.BalanceMove, bool) {
	for _, d := range targets {
		dn := nodes[d.Node]
		room := dn.FreeBytes - dn.PendingBytes - planned[d.Node]
		for _, s := range srcs {
			if s.Node == d.Node || !(d.Under() || s.Over()) {
				continue
			}
			for _, t := range cands {
				b := t.Length
				if used[t.ID] || b > room || s.Dev()-b < -s.MarginBytes || d.Dev()+b > d.MarginBytes || s.Dev()-d.Dev() <= b {
					continue
				}
				if mayMove(t, s.Node, d.Node, nodes) {
					return catalog.BalanceMove{TorrentID: t.ID, From: s.Node, To: d.Node,
						Reason: fmt.Sprintf("rebalance: %s over its share, %s under", s.Node, d.Node)}, true
				}
			}
		}
	}
	return catalog.BalanceMove{}, false
}

// mayMove reports whether t's copy on from may move to to (see PlanBalance).
func mayMove(t catalog.BalanceTorrent, from, to string, nodes map[string]catalog.BalanceNode) bool {
	src := replicaOn(t, from)
	if src == nil || replicaOn(t, to) != nil || !healthy(*src, nodes[from]) || src.MoveFrom != "" {
		return false
	}
	good, passed := 0, 0
	inZone := map[string]int{}
	for _, r := range t.Replicas {
		if r.MoveFrom != "" && !r.Marked {
			return false // a move in flight
		}
		n, ok := nodes[r.Node]
		if healthy(r, n) {
			good++
			if r.Scrub == "ok" {
				passed++
			}
		}
		if ok && !r.Marked && n.In && n.Admin != catalog.NodeDraining {
			inZone[n.Zone]++
		}
	}
	if good < t.Min || (src.Scrub == "ok" && passed == 1) {
		return false
	}
	fz, tz := nodes[from].Zone, nodes[to].Zone
	return fz == tz || inZone[tz] < inZone[fz]
}
