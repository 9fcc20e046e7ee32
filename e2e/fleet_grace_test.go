package e2e

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/testutil"
)

// TestFleetNodeBackWithinTheGracePeriodMovesNothing: three archivd
// processes (127.0.0.2, .3, .4; zones z1, z1, z2) on one PostgreSQL,
// replicas_min 2, fleet.down_out_interval 60 s. The torrent adopted on a
// is placed on c. c is SIGKILLed: it is down (NODE_DOWN, the torrent at
// risk) for several planner passes, then started again within the grace
// period. Nothing was re-replicated: no placement but the first, b holds
// no replica, c is never out, and no replica downloaded a byte more
// (transfer totals in the catalog unchanged from c's death to the end).
func TestFleetNodeBackWithinTheGracePeriodMovesNothing(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, uint64(time.Now().UnixNano())))
	_, a, b, c := threeNodes(t, "60s")
	src := filepath.Join(t.TempDir(), "dataset")
	writeRandomTree(t, src, rng, map[string]int{"f0.bin": 2<<20 + 5, "d/f1.bin": 1 << 20})
	tj := a.adopt("science", src, "256KiB", "")
	a.cli(0, "collection", "replicas", "science", "--replicas-min", "2", "--replicas-max", "2")
	a.start()
	b.start()
	c.start()
	logs := func() string { return a.log.String() + b.log.String() + c.log.String() }
	testutil.Eventually(t, 2*time.Minute, "the torrent complete on c", func() bool {
		ok, _ := c.complete("dataset", tj.PieceCount)
		return ok
	})
	holders := func() string { return strings.Join(a.listedReplicas()["dataset"].Nodes, ",") }
	downloaded := func() int64 { // every node's replica's transfer total, from the catalog
		var n int64
		for _, in := range []*instance{a, b, c} {
			var j torrentJSON
			in.cliJSON(&j, "show", "dataset")
			n += j.Downloaded
		}
		return n
	}
	node := func(id string) fleetNodeJSON {
		var n fleetNodeJSON
		a.cliJSON(&n, "node", "show", id)
		return n
	}

	c.kill()
	killed := time.Now()
	before := downloaded() // c is dead: nothing adds to it unless something is fetched again
	// Down is counted from the last heartbeat: c is down after NodeUpTTL;
	// it stays down for 5 planner passes more, far from the 60 s interval.
	testutil.Eventually(t, time.Minute, "c down for 5 s", func() bool {
		n := node("c")
		return !n.Up && n.DownSeconds > catalog.NodeUpTTL.Seconds()+5
	})
	var st fleetStatusJSON
	a.cliJSON(&st, "fleet", "status")
	if st.Copies.UnderMin != 0 || st.Copies.AtRisk != 1 {
		t.Fatalf("fleet status with c down within the grace period: %+v, want 0 under min, 1 at risk", st)
	}
	if out, _, code := a.run("health"); code == 0 || !strings.Contains(out, "NODE_DOWN") {
		t.Fatalf("health with c down: exit %d\n%s", code, out)
	}
	c.start()
	t.Logf("c back %.1fs after SIGKILL (down_out_interval 60s)", time.Since(killed).Seconds())
	testutil.Eventually(t, time.Minute, "c up", func() bool { return node("c").Up })
	if n := node("c"); n.Out {
		t.Fatal("c marked out within the grace period")
	}
	testutil.Eventually(t, time.Minute, "the torrent complete on c again", func() bool {
		ok, _ := c.complete("dataset", tj.PieceCount)
		return ok
	})
	a.cliJSON(&st, "fleet", "status")
	if st.Copies.UnderMin != 0 || st.Copies.AtRisk != 0 || st.Copies.Fetching != 0 {
		t.Fatalf("fleet status with c back: %+v", st)
	}
	if h := holders(); h != "a,c" {
		t.Fatalf("replicas on %s, want a,c (nothing placed on b)", h)
	}
	if n := strings.Count(logs(), "fleet planner: replica placed"); n != 1 {
		t.Fatalf("%d placements logged, want 1 (c's, before the kill)", n)
	}
	if after := downloaded(); after != before {
		t.Fatalf("transfer totals %d bytes after c's return, %d at its death: %d bytes re-replicated", after, before, after-before)
	}
}
