// Package fleet places replicas on the nodes of a shared catalog and
// recovers them when a node is lost (issue 12, items 3 and 4): a planner
// that runs on one node at a time under the catalog's planner lease, the
// choice of target nodes, and when a down node is marked out.
package fleet

import (
	"slices"

	"github.com/archivd/archivd/internal/catalog"
)

// Options are what Choose goes by besides the catalog's facts.
type Options struct {
	// SkipLost leaves out torrents under their min because a copy was lost
	// (norecover).
	SkipLost bool
	// MaxRecoveries bounds the placed replicas a node fetches at once
	// (fleet.max_recoveries_per_node); 0 = no bound.
	MaxRecoveries int
}

// Choose picks, for each torrent under its replicas_min (in the order
// given: fewest copies first), the nodes that get a new replica: target
// nodes (up, active, in) holding no replica of it and with room for it
// (free space less what the replicas placed on them still fetch, less
// what this pass already put there), spread across zones first (a zone
// holding fewer of its copies first), then fewest partner bytes (see
// below), then most room, then node id. A torrent that finds too few
// nodes gets what there is.
//
// Partner bytes (declustering): a new copy goes, within the zone rule, to
// the node sharing the fewest bytes with the nodes of the torrent's
// copies (PlanNode.Partners, plus what this pass placed): the sum, over
// those nodes, of the bytes of the torrents both hold. Each placement
// adds its torrent's length to the pairs it makes, so a node's data ends
// up spread over its partners evenly, and when it is lost each survivor
// holds the other copy of about the same share of it: the recovery
// (which can only go to a node without a copy) is spread over every
// survivor instead of the few that happened to be chosen by room.
//
// A recovery (a torrent under its min because a copy stopped counting,
// PlanTorrent.Lost) goes, within the zone rule, to the node fetching the
// fewest bytes (its PendingBytes plus what this pass gave it), then most
// room, then node id: the survivors of a node loss share its data by
// bytes, so the time back to replicas_min is about D / (S x
// fleet.recovery_rate), not D / rate when most goes to one survivor.
// With every survivor eligible for every torrent, the survivors' pending
// bytes after the pass differ by at most the largest torrent (each goes
// to the least loaded one); a survivor already holding a torrent's
// other copy cannot take it, so the spread then also depends on where
// those copies are.
//
// A node already fetching o.MaxRecoveries placed replicas (counting those
// this pass gives it) gets no more: the torrent goes to the next node in
// that order, unless the busy node's zone holds fewer of its copies than
// every free node's, when it waits for a later pass (the limit slows
// recovery down, it never spreads a torrent worse across zones). The
// torrents come fewest copies first, so the most at risk take the free
// recovery slots first.
func Choose(nodes []catalog.PlanNode, ts []catalog.PlanTorrent, o Options) []catalog.PlanPlacement {
	zoneOf := map[string]string{}
	for _, n := range nodes {
		zoneOf[n.ID] = n.Zone
	}
	planned := map[string]int64{}
	pairs := partnerPairs(nodes)
	recovering := map[string]int{}
	for _, n := range nodes {
		recovering[n.ID] = n.Recovering
	}
	var out []catalog.PlanPlacement
	for _, t := range ts {
		if o.SkipLost && t.Lost() {
			continue
		}
		lost := t.Lost()
		has := map[string]bool{}
		for _, h := range t.Holders {
			has[h] = true
		}
		inZone := map[string]int{}
		for _, c := range t.Copies {
			inZone[zoneOf[c]]++
		}
		copies := slices.Clone(t.Copies)
		for need := t.Min - len(t.Copies); need > 0; need-- {
			best, bestRoom, bestShared := -1, int64(0), int64(0)
			busyZone := -1 // fewest copies in the zone of a node skipped for its recovery limit
			for i, n := range nodes {
				room := n.FreeBytes - n.PendingBytes - planned[n.ID]
				if !n.Target || has[n.ID] || room < t.TotalLength {
					continue
				}
				if o.MaxRecoveries > 0 && recovering[n.ID] >= o.MaxRecoveries {
					if busyZone < 0 || inZone[n.Zone] < busyZone {
						busyZone = inZone[n.Zone]
					}
					continue
				}
				shared := int64(0)
				if !lost {
					shared = pairs.shared(n.ID, copies)
				}
				if best < 0 {
					best, bestRoom, bestShared = i, room, shared
					continue
				}
				b := nodes[best]
				if z, bz := inZone[n.Zone], inZone[b.Zone]; z != bz {
					if z < bz {
						best, bestRoom, bestShared = i, room, shared
					}
					continue
				}
				if lost {
					if f, bf := n.PendingBytes+planned[n.ID], b.PendingBytes+planned[b.ID]; f != bf {
						if f < bf {
							best, bestRoom, bestShared = i, room, shared
						}
						continue
					}
				} else if shared != bestShared {
					if shared < bestShared {
						best, bestRoom, bestShared = i, room, shared
					}
					continue
				}
				if better(inZone[n.Zone], room, n.ID, inZone[b.Zone], bestRoom, b.ID) {
					best, bestRoom, bestShared = i, room, shared
				}
			}
			if best < 0 || (busyZone >= 0 && busyZone < inZone[nodes[best].Zone]) {
				break
			}
			n := nodes[best]
			out = append(out, catalog.PlanPlacement{TorrentID: t.ID, Node: n.ID})
			has[n.ID] = true
			pairs.add(n.ID, copies, t.TotalLength)
			copies = append(copies, n.ID)
			inZone[n.Zone]++
			planned[n.ID] += t.TotalLength
			recovering[n.ID]++
		}
	}
	return out
}

// better orders candidates: fewer copies in their zone, then more room,
// then the smaller id.
func better(zone int, room int64, id string, bZone int, bRoom int64, bID string) bool {
	if zone != bZone {
		return zone < bZone
	}
	if room != bRoom {
		return room > bRoom
	}
	return id < bID
}
