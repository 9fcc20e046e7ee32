package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// benchEnvInt reads a positive integer from the environment, def if unset.
func benchEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s: %q is not a positive integer", name, s)
	}
	return n
}

// TestFleetRecoveryTimeBench is issue 12's benchmark (run only with
// E2E_BENCH=1; an ARCHIVD_ variable would be read as a config key): the
// time back to replicas_min after losing a node holding D bytes with S = 2
// survivors, against the bound D / (S x fleet.recovery_rate) + the grace
// period. Three archivd processes (127.0.0.2-.4, one zone: the guard
// never marks a zone's last node out) on one PostgreSQL, each with
// fleet.recovery_rate BENCH_RATE_MB MiB/s (default 32), down_out_interval
// 30s, the planner every second; norebalance set, so only placement and
// recovery move data. BENCH_TORRENTS torrents (default 8) of
// BENCH_TORRENT_MB MiB (default 32), half added on a and half on b;
// replicas_min 2 is set once all three are up. Once every torrent has 2
// complete copies, b or c (a leads the planner), the one holding more, is
// SIGKILLed for good; D is what it held. Measured from the kill to every
// torrent back at 2 complete copies on the survivors (their lists: local,
// every piece complete); bytes moved per survivor: its complete copies
// after minus before (the catalog). The new copies go to the survivor not holding the torrent, so
// the busier survivor's share / rate is the transfer's floor (D/(S x rate)
// when even). The grace is max(down_out_interval, NodeUpTTL) from the lost
// node's last heartbeat (down seconds count from it): the kill comes up to
// a heartbeat interval after it. Measures; asserts nothing timed.
func TestFleetRecoveryTimeBench(t *testing.T) {
	if os.Getenv("E2E_BENCH") != "1" {
		t.Skip("a benchmark: E2E_BENCH=1 runs it")
	}
	n := benchEnvInt(t, "BENCH_TORRENTS", 8)
	mb := benchEnvInt(t, "BENCH_TORRENT_MB", 32)
	rateMB := benchEnvInt(t, "BENCH_RATE_MB", 32)
	const downOut = 30 * time.Second
	// One zone: the guard never marks a zone's last node out.
	_, _, url := pgtest.Own(t)
	extra := fleetExtra("z1", downOut.String()) + fmt.Sprintf("  recovery_rate: %dMiB\n", rateMB)
	a := newInstanceOpts(t, "a", instanceOpts{dbURL: url, host: "127.0.0.2", extra: extra})
	b := newInstanceOpts(t, "b", instanceOpts{dbURL: url, host: "127.0.0.3", extra: extra})
	c := newInstanceOpts(t, "c", instanceOpts{dbURL: url, host: "127.0.0.4", extra: extra})
	rng := rand.New(rand.NewPCG(12, uint64(time.Now().UnixNano())))
	a.cli(0, "collection", "create", "science")
	pieces := map[string]int{}
	var d int64
	for i := range n {
		name := fmt.Sprintf("set%02d", i)
		src := filepath.Join(t.TempDir(), name)
		d += writeRandomTree(t, src, rng, map[string]int{"data.bin": mb << 20})
		on := a
		if i%2 == 1 {
			on = b
		}
		on.cli(0, "add", "-c", "science", src, "--piece-length", "1MiB")
		var tj torrentJSON
		on.cliJSON(&tj, "show", name)
		pieces[name] = tj.PieceCount
	}
	a.cli(0, "fleet", "set", "norebalance", "--reason", "benchmark: recovery only")
	a.start()
	testutil.Eventually(t, time.Minute, "a leads the planner", func() bool {
		return strings.Contains(a.log.String(), `"leading":true`)
	})
	b.start()
	c.start()
	// replicas_min 2 once all three are up: placed earlier, b's torrents
	// would go to a (c not up yet).
	testutil.Eventually(t, time.Minute, "b and c up", func() bool {
		var nb, nc fleetNodeJSON
		a.cliJSON(&nb, "node", "show", "b")
		a.cliJSON(&nc, "node", "show", "c")
		return nb.Up && nc.Up
	})
	a.cli(0, "collection", "replicas", "science", "--replicas-min", "2", "--replicas-max", "2")
	// copies counts the complete local copies of each torrent on nodes.
	copies := func(nodes ...*instance) map[string]int {
		got := map[string]int{}
		for _, in := range nodes {
			for name, r := range in.listedReplicas() {
				if p, ok := pieces[name]; ok && r.Local && r.PiecesComplete == p {
					got[name]++
				}
			}
		}
		return got
	}
	atMin := func(nodes ...*instance) bool {
		got := copies(nodes...)
		for name := range pieces {
			if got[name] < 2 {
				return false
			}
		}
		return true
	}
	testutil.Eventually(t, 5*time.Minute, "every torrent at 2 complete copies", func() bool { return atMin(a, b, c) })
	// The node lost: b or c (a leads the planner), the one holding more.
	held := func(in *instance) (bytes int64) {
		for name, k := range copies(in) {
			if k > 0 {
				bytes += int64(pieces[name]) << 20
			}
		}
		return bytes
	}
	lost, s1, s2 := c, a, b
	if held(b) > held(c) {
		lost, s1, s2 = b, a, c
	}
	d = held(lost)
	before := map[string]int64{s1.name: held(s1), s2.name: held(s2)}

	lost.kill()
	killed := time.Now()
	var outAfter time.Duration
	testutil.Eventually(t, 3*time.Minute, "the lost node marked out", func() bool {
		var nj fleetNodeJSON
		s1.cliJSON(&nj, "node", "show", lost.name)
		outAfter = time.Since(killed)
		return nj.Out
	})
	testutil.Eventually(t, 5*time.Minute, "every torrent back at 2 complete copies", func() bool { return atMin(s1, s2) })
	back := time.Since(killed)

	testutil.Eventually(t, 30*time.Second, "fleet status: nothing under replicas_min nor fetching", func() bool {
		var st fleetStatusJSON
		s1.cliJSON(&st, "fleet", "status")
		return st.Copies.UnderMin == 0 && st.Recovery.Fetching == 0
	})
	// Bytes moved: the torrents complete on each survivor now and not
	// before the kill (the catalog, through list; fleet status's
	// recovery window of a minute also holds the fetches before it).
	perNode := map[string]int64{s1.name: held(s1) - before[s1.name], s2.name: held(s2) - before[s2.name]}
	moved := perNode[s1.name] + perNode[s2.name]
	rate := float64(rateMB << 20)
	grace := max(downOut, catalog.NodeUpTTL)
	transfer := float64(d) / (2 * rate)
	bound := grace.Seconds() + transfer
	// The survivor receiving more sets the time: max(D_i) / rate.
	busiest := float64(max(perNode[s1.name], perNode[s2.name])) / rate
	fmt.Printf("RESULT fleet recovery: %s lost holding D=%d bytes (of %d torrents of %d MiB), S=2 survivors (%s, %s), fleet.recovery_rate %d MiB/s per node, grace %s (max of down_out_interval %s and NodeUpTTL %s)\n",
		lost.name, d, n, mb, s1.name, s2.name, rateMB, grace, downOut, catalog.NodeUpTTL)
	fmt.Printf("RESULT busiest survivor's share / rate: %.1f s (even split D/(S x rate): %.1f s)\n", busiest, transfer)
	fmt.Printf("RESULT lost node out after %.1f s; back at replicas_min after %.1f s (transfer after out: %.1f s) | bound %.1f s (D/(S x rate) %.1f s + grace %.0f s) | ratio %.2f (transfer alone %.2f)\n",
		outAfter.Seconds(), back.Seconds(), (back - outAfter).Seconds(), bound, transfer, grace.Seconds(),
		back.Seconds()/bound, (back-outAfter).Seconds()/transfer)
	fmt.Printf("RESULT bytes moved (new complete copies in the catalog): %s %d, %s %d, total %d = %.3f x D\n",
		s1.name, perNode[s1.name], s2.name, perNode[s2.name], moved, float64(moved)/float64(d))
}
