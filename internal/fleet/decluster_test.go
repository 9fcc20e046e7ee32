package fleet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
)

// simPartners places ts with Choose, batch torrents per pass, giving each
// pass the bytes every pair of nodes holds in common (as PlanPass reads
// them) and taking the placed bytes off the nodes' free space; it returns
// the pairs' bytes at the end.
func simPartners(nodes []catalog.PlanNode, ts []catalog.PlanTorrent, batch int) partners {
	p := partners{}
	holds := map[int64][]string{}
	length := map[int64]int64{}
	for _, tr := range ts {
		for i, c := range tr.Copies {
			p.add(c, tr.Copies[:i], tr.TotalLength)
		}
		holds[tr.ID], length[tr.ID] = tr.Copies, tr.TotalLength
	}
	for len(ts) > 0 {
		k := min(batch, len(ts))
		for i, n := range nodes {
			nodes[i].Partners = map[string]int64{}
			for _, m := range nodes {
				if m.ID != n.ID {
					nodes[i].Partners[m.ID] = p[pairKey(n.ID, m.ID)]
				}
			}
		}
		for _, pl := range Choose(nodes, ts[:k], Options{}) {
			p.add(pl.Node, holds[pl.TorrentID], length[pl.TorrentID])
			holds[pl.TorrentID] = append(holds[pl.TorrentID], pl.Node)
			for i := range nodes {
				if nodes[i].ID == pl.Node {
					nodes[i].FreeBytes -= length[pl.TorrentID]
				}
			}
		}
		ts = ts[k:]
	}
	return p
}

// spread is the least and the most node n holds in common with one of the
// other nodes.
func (p partners) spread(n string, nodes []catalog.PlanNode) (lo, hi int64) {
	lo = -1
	for _, m := range nodes {
		if m.ID == n {
			continue
		}
		b := p[pairKey(n, m.ID)]
		if lo < 0 || b < lo {
			lo = b
		}
		hi = max(hi, b)
	}
	return lo, hi
}

// Declustering: 300 random fleets (3-8 nodes in one zone with ample room,
// equal or not), replicas_min 2 or 3, 50-350 torrents each added on one
// node (the nodes in turn), of random sizes or all equal, placed a few
// per pass. Afterwards every node's bytes in common with each other node
// are within one largest torrent of an even level (the most and the least
// differ by at most twice the largest torrent), so the recovery of any
// lost node is spread evenly over the survivors. Placing by room alone
// gave one partner of a node up to hundreds of torrents more than
// another.
func TestChooseDeclustersPartners(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 21))
	worst := 0.0
	for round := range 300 {
		n := 3 + rng.IntN(6)
		r := 2 + rng.IntN(2)
		equalRoom, equalSize := rng.IntN(2) == 0, rng.IntN(2) == 0
		var nodes []catalog.PlanNode
		for i := range n {
			free := int64(1 << 40)
			if !equalRoom {
				free += rng.Int64N(1 << 40)
			}
			nodes = append(nodes, catalog.PlanNode{ID: fmt.Sprintf("n%d", i), Zone: "z", Target: true, FreeBytes: free})
		}
		var ts []catalog.PlanTorrent
		var largest int64
		for i := range 50 + rng.IntN(300) {
			size := int64(1 << 20)
			if !equalSize {
				size = 1 + rng.Int64N(64<<20)
			}
			largest = max(largest, size)
			on := nodes[i%n].ID
			ts = append(ts, catalog.PlanTorrent{ID: int64(i + 1), TotalLength: size, Min: r,
				Copies: []string{on}, Holders: []string{on}})
		}
		p := simPartners(nodes, ts, 1+rng.IntN(10))
		for _, nd := range nodes {
			lo, hi := p.spread(nd.ID, nodes)
			worst = max(worst, float64(hi-lo)/float64(largest))
			if hi-lo > 2*largest {
				t.Fatalf("round %d: %d nodes, replicas %d, equal room %v, equal sizes %v: %s holds %d..%d bytes in common with the others, spread %.2f x the largest torrent (%d), want at most 2",
					round, n, r, equalRoom, equalSize, nd.ID, lo, hi, float64(hi-lo)/float64(largest), largest)
			}
		}
	}
	t.Logf("worst spread of a node's bytes in common: %.2f x the largest torrent", worst)
}

// The recovery benchmark's fleet: 3 nodes, replicas_min 2, torrents added
// on a and b in turn. Whichever node is lost, the survivor that fetches
// most (the one not holding the other copy) fetches at most half the lost
// bytes plus one largest torrent (by room alone one survivor fetched 6 of
// 7 torrents in the benchmark).
func TestChooseDeclustersTheBenchmarkFleet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2))
	worst := 0.0
	for round := range 100 {
		nodes := []catalog.PlanNode{
			{ID: "a", Zone: "z", Target: true, FreeBytes: 1<<40 + rng.Int64N(1<<30)},
			{ID: "b", Zone: "z", Target: true, FreeBytes: 1<<40 + rng.Int64N(1<<30)},
			{ID: "c", Zone: "z", Target: true, FreeBytes: 1<<40 + rng.Int64N(1<<30)},
		}
		var ts []catalog.PlanTorrent
		var largest int64
		for i := range 6 + rng.IntN(60) {
			size := 1 + rng.Int64N(32<<20)
			largest = max(largest, size)
			on := []string{"a", "b"}[i%2]
			ts = append(ts, catalog.PlanTorrent{ID: int64(i + 1), TotalLength: size, Min: 2, Copies: []string{on}, Holders: []string{on}})
		}
		p := simPartners(nodes, ts, 1+rng.IntN(len(ts)))
		for _, lost := range nodes {
			// A survivor fetches the lost node's torrents whose other copy
			// is on the other survivor.
			lo, hi := p.spread(lost.ID, nodes)
			d := lo + hi
			worst = max(worst, float64(hi-d/2)/float64(largest))
			if hi-d/2 > largest {
				t.Fatalf("round %d, %d torrents: %s lost (%d bytes): the survivors fetch %d and %d, the busiest %.2f largest torrents above half",
					round, len(ts), lost.ID, d, lo, hi, float64(hi-d/2)/float64(largest))
			}
		}
	}
	t.Logf("worst: the busiest survivor %.2f largest torrents above half", worst)
}
