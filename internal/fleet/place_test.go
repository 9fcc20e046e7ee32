package fleet

import (
	"fmt"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
)

// A node at its recovery limit is skipped for another of the same zone
// spread, but a torrent never goes to a zone holding more of its copies
// because the better zone's node is busy: it waits.
func TestChooseRecoveryLimitNeverSpreadsWorse(t *testing.T) {
	nodes := []catalog.PlanNode{
		{ID: "a", Zone: "z1", Target: true, FreeBytes: 1 << 40},
		{ID: "b", Zone: "z1", Target: true, FreeBytes: 1 << 40},
		{ID: "c", Zone: "z2", Target: true, FreeBytes: 1 << 30, Recovering: 1},
		{ID: "d", Zone: "z3", Target: true, FreeBytes: 1 << 20},
	}
	one := catalog.PlanTorrent{ID: 1, TotalLength: 1000, Min: 2, Copies: []string{"a"}, Holders: []string{"a"}}
	two := catalog.PlanTorrent{ID: 2, TotalLength: 1000, Min: 3, Copies: []string{"a"}, Holders: []string{"a"}}
	cases := []struct {
		name  string
		ts    []catalog.PlanTorrent
		limit int
		want  string
	}{
		{"unbounded: the zone with most room", []catalog.PlanTorrent{one}, 0, "[{1 c}]"},
		{"c busy: d, same zone spread", []catalog.PlanTorrent{one}, 1, "[{1 d}]"},
		{"c and d busy after the first torrent: the second waits rather than go to z1",
			[]catalog.PlanTorrent{one, two}, 1, "[{1 d}]"},
		{"limit 2: c takes one more, then d; two's third copy waits for c rather than go to z1",
			[]catalog.PlanTorrent{one, two}, 2, "[{1 c} {2 d}]"},
		{"a zone as good as the busy one is used", []catalog.PlanTorrent{two}, 1, "[{2 d}]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(Choose(nodes, c.ts, Options{MaxRecoveries: c.limit})); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
