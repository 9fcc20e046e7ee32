package fleet

import (
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

func node(id, zone string, up bool, down time.Duration) catalog.Node {
	return catalog.Node{ID: id, NodeInfo: catalog.NodeInfo{Zone: zone}, Up: up, DownSeconds: down.Seconds(), Admin: catalog.NodeActive}
}

func TestOutDecision(t *testing.T) {
	p := Policy{DownOut: time.Minute, OutMaxShare: 0.5}
	cases := []struct {
		name  string
		nodes []catalog.Node
		pol   Policy
		out   string
		held  string
	}{
		{"down within the interval: nothing", []catalog.Node{node("a", "z1", false, 59*time.Second), node("b", "z1", true, 0)}, p, "", ""},
		{"down past it: out", []catalog.Node{node("a", "z1", false, time.Hour), node("b", "z1", true, 0)}, p, "a", ""},
		{"default share 25% of 3 nodes: held", []catalog.Node{node("a", "", false, time.Hour), node("b", "", true, 0), node("c", "", true, 0)},
			Policy{DownOut: time.Minute}, "", "a: marking it out would put 1 of 3 nodes out"},
		{"share: the longest down goes first, the next is held",
			[]catalog.Node{node("a", "", false, time.Hour), node("b", "", false, 2*time.Hour), node("c", "", true, 0), node("d", "", true, 0), node("e", "", true, 0)},
			Policy{DownOut: time.Minute}, "b", "a: marking it out would put 2 of 5 nodes out"},
		{"a whole zone is held", []catalog.Node{node("a", "z1", false, time.Hour), node("b", "z2", true, 0)}, p, "", "a: no node of zone z1 is up and in"},
		{"maintenance is never out", []catalog.Node{func() catalog.Node { n := node("a", "", false, time.Hour); n.Admin = catalog.NodeMaintenance; return n }(),
			node("b", "", true, 0)}, p, "", ""},
	}
	for _, c := range cases {
		out, held := OutDecision(c.nodes, c.pol)
		var hs []string
		for _, h := range held {
			hs = append(hs, h.Node.ID+": "+h.Why)
		}
		if strings.Join(out, ",") != c.out || !strings.HasPrefix(strings.Join(hs, ";"), c.held) || (c.held == "") != (len(held) == 0) {
			t.Errorf("%s: out %v held %v, want out %q held %q", c.name, out, hs, c.out, c.held)
		}
	}
}
