package fleet

import (
	"fmt"

	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// The recovery benchmark's fleet on a real catalog: nodes a, b and c,
// replicas_min 2, 16 torrents of 256 KiB to 2 MiB added on a and b in
// turn, two per pass, each second copy placed by the real planner
// (settled and fetched between passes); c has 256 times the free space of
// a and b, so by room it took every second copy. Afterwards each node's
// bytes in common with its two partners differ by at most twice the
// largest torrent, and when a is lost, each survivor fetches at most half
// of a's bytes plus the largest torrent (by room: b fetched all of it).
func TestPlacementDeclustersPartners(t *testing.T) {
	t.Parallel()
	s := newSim(t, Policy{}, catalog.Collection{Name: "c", ReplicasMin: 2, ReplicasMax: 2})
	if _, err := s.db.SetFleetFlag(s.ctx, catalog.FlagNoRebalance, "t", "test"); err != nil {
		t.Fatal(err)
	}
	s.join("a", "z", 1<<32)
	s.join("b", "z", 1<<32)
	s.join("c", "z", 1<<40)
	var largest int64
	sizes := []int{8, 1, 5, 3, 7, 2, 6, 4, 8, 2, 3, 5, 1, 7, 4, 6}
	for i, pieces := range sizes {
		s.add("c", []string{"a", "b"}[i%2], pieces)
		largest = max(largest, int64(pieces)*simPiece)
		if i%2 == 1 {
			s.pass()
			for _, id := range []string{"a", "b", "c"} {
				s.nodeStep(id)
			}
			s.fetch(-1)
		}
	}
	if n := pgtest.Int(t, s.db, `SELECT count(*) FROM replicas WHERE completed_at IS NOT NULL`); n != 32 {
		t.Fatalf("%d complete copies, want 32: %s", n, s.replicas())
	}
	pairs := map[string]int64{}
	for _, p := range []string{"ab", "ac", "bc"} {
		pairs[p] = pgtest.Int(t, s.db, `SELECT coalesce(sum(t.total_length), 0) FROM replicas a JOIN replicas b ON b.torrent_id = a.torrent_id
			JOIN torrents t ON t.id = a.torrent_id WHERE a.node_id = $1 AND b.node_id = $2`, p[:1], p[1:])
	}
	got := fmt.Sprint(pairs)
	t.Logf("bytes in common: %s", got)
	for _, x := range []struct{ node, p, q string }{{"a", "ab", "ac"}, {"b", "ab", "bc"}, {"c", "ac", "bc"}} {
		if d := pairs[x.p] - pairs[x.q]; d > 2*largest || -d > 2*largest {
			t.Fatalf("%s holds %d and %d bytes with its partners (%s): spread beyond twice the largest torrent (%d)", x.node, pairs[x.p], pairs[x.q], got, largest)
		}
	}
	s.stop("a")
	if _, err := s.db.SetNodeOut(s.ctx, "a", true, "t"); err != nil {
		t.Fatal(err)
	}
	s.pass()
	ns, _, err := s.db.BalanceNodes(s.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string]int64{}
	for _, n := range ns {
		pending[n.ID] = n.PendingBytes
	}
	lost := pairs["ab"] + pairs["ac"]
	if pending["b"]+pending["c"] != lost || max(pending["b"], pending["c"]) > lost/2+largest {
		t.Fatalf("a lost (%d bytes): b fetches %d, c %d; want all of it, neither more than half plus the largest torrent (%d)",
			lost, pending["b"], pending["c"], largest)
	}
	t.Logf("a lost (%d bytes): b fetches %d, c %d", lost, pending["b"], pending["c"])
}
