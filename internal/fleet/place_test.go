package fleet

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// Recovery placements go to the survivor fetching the fewest bytes: with
// every survivor eligible (the torrents' surviving copies on a node that
// takes nothing), the survivors' pending bytes after the choice differ by
// at most the largest torrent, whatever their free space (one survivor
// with far more room used to take everything) and what they already
// fetch; 200 random instances.
func TestChooseSpreadsRecoveryBytesAcrossSurvivors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		s := 2 + rng.IntN(5)
		nodes := []catalog.PlanNode{{ID: "m", Zone: "z", FreeBytes: 1 << 50}} // holds the copies, takes nothing (maintenance)
		for i := range s {
			nodes = append(nodes, catalog.PlanNode{ID: fmt.Sprintf("s%d", i), Zone: "z", Target: true,
				FreeBytes: 1<<40 + rng.Int64N(1<<40), PendingBytes: rng.Int64N(1 << 20)})
		}
		var ts []catalog.PlanTorrent
		var largest int64
		for i := range 1 + rng.IntN(40) {
			size := 1 + rng.Int64N(64<<20)
			largest = max(largest, size)
			ts = append(ts, catalog.PlanTorrent{ID: int64(i + 1), TotalLength: size, Min: 2,
				Copies: []string{"m"}, Holders: []string{"lost", "m"}})
		}
		// Start from pending bytes within the largest torrent of each
		// other, the premise the bound keeps.
		for i := range nodes[1:] {
			nodes[1+i].PendingBytes %= largest
		}
		pending := map[string]int64{}
		for _, n := range nodes[1:] {
			pending[n.ID] = n.PendingBytes
		}
		ps := Choose(nodes, ts, Options{})
		if len(ps) != len(ts) {
			t.Fatalf("round %d: %d placements for %d torrents", round, len(ps), len(ts))
		}
		for _, p := range ps {
			pending[p.Node] += ts[p.TorrentID-1].TotalLength
		}
		lo, hi := int64(math.MaxInt64), int64(0)
		for _, b := range pending {
			lo, hi = min(lo, b), max(hi, b)
		}
		if hi-lo > largest {
			t.Fatalf("round %d: %d survivors fetch %v: spread %d > largest torrent %d", round, s, pending, hi-lo, largest)
		}
	}
	// A new torrent (not a recovery) still goes by room first.
	nodes := []catalog.PlanNode{{ID: "a", Zone: "z", Target: true, FreeBytes: 1 << 40, PendingBytes: 1 << 30},
		{ID: "b", Zone: "z", Target: true, FreeBytes: 1 << 30}}
	fresh := catalog.PlanTorrent{ID: 1, TotalLength: 1000, Min: 1}
	lost := catalog.PlanTorrent{ID: 2, TotalLength: 1000, Min: 1, Holders: []string{"gone"}}
	if got := fmt.Sprint(Choose(nodes, []catalog.PlanTorrent{fresh, lost}, Options{})); got != "[{1 a} {2 b}]" {
		t.Fatalf("new torrent by room, recovery by fewest bytes fetching: %s, want [{1 a} {2 b}]", got)
	}
}
