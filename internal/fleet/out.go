package fleet

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// Policy is what the planner and the health checks go by (config fleet.*).
type Policy struct {
	// DownOut: a node down this long is marked out (its replicas stop
	// counting and are placed elsewhere); default 10 minutes.
	DownOut time.Duration
	// OutMaxShare: never more than this share of the nodes out
	// automatically (the mass-failure guard); default 0.25.
	OutMaxShare float64
	// Interval between planner passes; the planner lease lasts 3 of them.
	Interval time.Duration
	// MaxRecoveriesPerNode bounds the placed replicas one node fetches at
	// once; 0 = no bound (the configuration's default is 4).
	MaxRecoveriesPerNode int
	// SendLimited: this node bounds what it sends for recoveries
	// (fleet.recovery_send_rate set): each pass lists the torrents other
	// nodes are recovering from it (a scan of the fleet's placed
	// replicas, skipped while unset).
	SendLimited bool
	// BalanceMargin is the rebalance's hysteresis, a share of each node's
	// share (see BalanceOptions.Margin); default 0.1.
	BalanceMargin float64
	// StallAfter: a placed replica not complete whose pieces complete
	// have not grown for this long is stalled (catalog.StalledSQL): it no
	// longer counts toward its node's recovery limit nor holds the
	// rebalance. 0 = never (the configuration's default is 10 minutes).
	StallAfter time.Duration
}

// WithDefaults fills zero values.
func (p Policy) WithDefaults() Policy {
	if p.DownOut == 0 {
		p.DownOut = 10 * time.Minute
	}
	if p.OutMaxShare == 0 {
		p.OutMaxShare = 0.25
	}
	if p.BalanceMargin == 0 {
		p.BalanceMargin = 0.1
	}
	if p.Interval == 0 {
		p.Interval = 10 * time.Second
	}
	return p
}

// LeaseTTL is how long the planner lease outlives its holder's last pass.
func (p Policy) LeaseTTL() time.Duration { return 3 * p.WithDefaults().Interval }

// Held is a node down past DownOut that the guard keeps in.
type Held struct {
	Node catalog.Node
	Why  string
}

// OutDecision says which nodes to mark out now: nodes down at least
// DownOut, in, not in maintenance, longest down first, unless that would
// put more than OutMaxShare of the nodes out or leave a zone (named) with
// no node up and in: those are held.
func OutDecision(nodes []catalog.Node, p Policy) (out []string, held []Held) {
	p = p.WithDefaults()
	var due []catalog.Node
	isOut := map[string]bool{}
	for _, n := range nodes {
		isOut[n.ID] = n.Out
		if !n.Up && !n.Out && n.Admin != catalog.NodeMaintenance && n.DownSeconds >= p.DownOut.Seconds() {
			due = append(due, n)
		}
	}
	slices.SortFunc(due, func(a, b catalog.Node) int {
		if a.DownSeconds != b.DownSeconds {
			if a.DownSeconds > b.DownSeconds {
				return -1
			}
			return 1
		}
		return cmpString(a.ID, b.ID)
	})
	outNow := 0
	for _, n := range nodes {
		if n.Out {
			outNow++
		}
	}
	limit := int(math.Floor(p.OutMaxShare*float64(len(nodes)) + 1e-9))
	for _, n := range due {
		switch {
		case outNow+1 > limit:
			held = append(held, Held{n, fmt.Sprintf("marking it out would put %d of %d nodes out, over fleet.out_max_share %g (at most %d)",
				outNow+1, len(nodes), p.OutMaxShare, limit)})
		case n.Zone != "" && !zoneKeepsOne(nodes, n.Zone):
			held = append(held, Held{n, fmt.Sprintf("no node of zone %s is up and in: a whole zone is never marked out automatically", n.Zone)})
		default:
			out = append(out, n.ID)
			outNow++
		}
	}
	return out, held
}

// zoneKeepsOne reports whether a node of zone is up and in.
func zoneKeepsOne(nodes []catalog.Node, zone string) bool {
	for _, n := range nodes {
		if n.Zone == zone && n.Up && !n.Out {
			return true
		}
	}
	return false
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
