package fleet

import (
	"fmt"
	"slices"

	"github.com/archivd/archivd/internal/catalog"
)

// ChooseTrim picks the replicas to mark for removal (pure):
//
//   - Drain: every replica on a draining node, once its torrent has at
//     least replicas_min healthy copies (catalog.TrimReplica.Healthy: a
//     draining node's never is) elsewhere.
//   - Trim: a torrent with more healthy copies than its replicas_max loses
//     the surplus, one at a time: from the zone holding most of its
//     healthy copies (the zone spread is kept), then the copy whose last
//     scrub failed, then one never scrubbed, then one on the fullest node
//     (least free space), then the smallest node id; never the only copy
//     that passed its last scrub.
//
// Only healthy copies are trimmed: replicas still fetching, unavailable or
// on a node out are left as they are (an out node's copies count again
// when it is in; then they are trimmed if surplus). No torrent is left
// with fewer than replicas_min healthy copies, nor without one.
func ChooseTrim(ts []catalog.TrimTorrent) []catalog.TrimMark {
	var out []catalog.TrimMark
	for _, t := range ts {
		var healthy []catalog.TrimReplica
		for _, r := range t.Replicas {
			if r.Healthy() {
				healthy = append(healthy, r)
			}
		}
		if len(healthy) >= t.Min && len(healthy) > 0 {
			for _, r := range t.Replicas {
				if r.Draining {
					out = append(out, catalog.TrimMark{TorrentID: t.ID, Node: r.Node,
						Reason: fmt.Sprintf("node draining: %d healthy copies elsewhere (replicas_min %d)", len(healthy), t.Min)})
				}
			}
		}
		for n := len(healthy); n > t.Max && n > t.Min; n-- {
			i := surplus(healthy)
			if i < 0 {
				break
			}
			out = append(out, catalog.TrimMark{TorrentID: t.ID, Node: healthy[i].Node,
				Reason: fmt.Sprintf("surplus copy: %d healthy copies, replicas_max %d", n, t.Max)})
			healthy = slices.Delete(healthy, i, i+1)
		}
	}
	return out
}

// surplus is the index of the copy to drop first among rs (see
// ChooseTrim), -1 when none may go.
func surplus(rs []catalog.TrimReplica) int {
	inZone := map[string]int{}
	passed := 0
	for _, r := range rs {
		inZone[r.Zone]++
		if r.Scrub == "ok" {
			passed++
		}
	}
	best := -1
	for i, r := range rs {
		if r.Scrub == "ok" && passed == 1 {
			continue // the only one that passed its last scrub
		}
		if best < 0 || dropFirst(r, rs[best], inZone) {
			best = i
		}
	}
	return best
}

// scrubRank orders the last scrub's result, the one to drop first first.
func scrubRank(s string) int {
	switch s {
	case "failed":
		return 0
	case "":
		return 1
	}
	return 2
}

// dropFirst reports whether a goes before b.
func dropFirst(a, b catalog.TrimReplica, inZone map[string]int) bool {
	if inZone[a.Zone] != inZone[b.Zone] {
		return inZone[a.Zone] > inZone[b.Zone]
	}
	if scrubRank(a.Scrub) != scrubRank(b.Scrub) {
		return scrubRank(a.Scrub) < scrubRank(b.Scrub)
	}
	if a.FreeBytes != b.FreeBytes {
		return a.FreeBytes < b.FreeBytes
	}
	return a.Node < b.Node
}
