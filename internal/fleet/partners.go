package fleet

import "github.com/archivd/archivd/internal/catalog"

// partners holds the bytes each pair of nodes holds in common (the total
// length of the torrents with a replica on both), keyed by the pair in
// id order.
type partners map[[2]string]int64

// partnerPairs reads the nodes' Partners into one map.
func partnerPairs(nodes []catalog.PlanNode) partners {
	p := partners{}
	for _, n := range nodes {
		for m, b := range n.Partners {
			p[pairKey(n.ID, m)] = b
		}
	}
	return p
}

func pairKey(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// shared sums the bytes node n holds in common with each of nodes.
func (p partners) shared(n string, nodes []string) int64 {
	var s int64
	for _, m := range nodes {
		if m != n {
			s += p[pairKey(n, m)]
		}
	}
	return s
}

// add records that n now holds, with each of nodes, a torrent of length
// bytes.
func (p partners) add(n string, nodes []string, length int64) {
	for _, m := range nodes {
		if m != n {
			p[pairKey(n, m)] += length
		}
	}
}
