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
// time back to replicas_min after losing a node holding D bytes with S
// survivors, against the bound D / (S x fleet.recovery_rate) + the grace
// period. BENCH_NODES archivd processes (default 3: S = 2; a, b, c, ... on
// 127.0.0.2 on, one zone: the guard never marks a zone's last node out)
// on one PostgreSQL, each with fleet.recovery_rate BENCH_RATE_MB MiB/s
// (default 32), down_out_interval 30s, the planner every second;
// norebalance set, so only placement and recovery move data.
// BENCH_TORRENTS torrents (default 8) of BENCH_TORRENT_MB MiB (default
// 32), added in turn on every node but the last (with 3: half on a, half
// on b); replicas_min 2 is set once all are up. Once every torrent has 2
// complete copies, the node other than a (a leads the planner) holding
// most is SIGKILLed for good; D is what it held. Measured from the kill
// to every torrent back at 2 complete copies on the survivors (their
// lists: local, every piece complete); bytes moved per survivor: its
// complete copies after minus before (the catalog). A new copy goes to a
// survivor not holding the torrent (with S = 2 there is no choice: the
// other one), so the busiest survivor's share / rate is the transfer's
// floor (D/(S x rate) when even). The grace is max(down_out_interval,
// NodeUpTTL) from the lost node's last heartbeat (down seconds count from
// it): the kill comes up to a heartbeat interval after it. Measures;
// asserts nothing timed.
func TestFleetRecoveryTimeBench(t *testing.T) {
	if os.Getenv("E2E_BENCH") != "1" {
		t.Skip("a benchmark: E2E_BENCH=1 runs it")
	}
	n := benchEnvInt(t, "BENCH_TORRENTS", 8)
	mb := benchEnvInt(t, "BENCH_TORRENT_MB", 32)
	rateMB := benchEnvInt(t, "BENCH_RATE_MB", 32)
	nodeCount := benchEnvInt(t, "BENCH_NODES", 3)
	if nodeCount < 3 || nodeCount > 8 {
		t.Fatalf("BENCH_NODES: %d is not between 3 and 8", nodeCount)
	}
	const downOut = 30 * time.Second
	// One zone: the guard never marks a zone's last node out.
	_, _, url := pgtest.Own(t)
	extra := fleetExtra("z1", downOut.String()) + fmt.Sprintf("  recovery_rate: %dMiB\n", rateMB)
	var nodes []*instance
	for i := range nodeCount {
		name := string(rune('a' + i))
		nodes = append(nodes, newInstanceOpts(t, name, instanceOpts{dbURL: url, host: fmt.Sprintf("127.0.0.%d", 2+i), extra: extra}))
	}
	a := nodes[0]
	rng := rand.New(rand.NewPCG(12, uint64(time.Now().UnixNano())))
	a.cli(0, "collection", "create", "science")
	pieces := map[string]int{}
	var d int64
	for i := range n {
		name := fmt.Sprintf("set%02d", i)
		src := filepath.Join(t.TempDir(), name)
		d += writeRandomTree(t, src, rng, map[string]int{"data.bin": mb << 20})
		on := nodes[i%(nodeCount-1)]
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
	for _, in := range nodes[1:] {
		in.start()
	}
	// replicas_min 2 once all are up: placed earlier, b's torrents would
	// go to a (c not up yet).
	testutil.Eventually(t, time.Minute, "every node up", func() bool {
		for _, in := range nodes[1:] {
			var nj fleetNodeJSON
			a.cliJSON(&nj, "node", "show", in.name)
			if !nj.Up {
				return false
			}
		}
		return true
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
	testutil.Eventually(t, 5*time.Minute, "every torrent at 2 complete copies", func() bool { return atMin(nodes...) })
	// The node lost: not a (it leads the planner), the one holding most.
	held := func(in *instance) (bytes int64) {
		for name, k := range copies(in) {
			if k > 0 {
				bytes += int64(pieces[name]) << 20
			}
		}
		return bytes
	}
	lost := nodes[1]
	for _, in := range nodes[2:] {
		if held(in) > held(lost) {
			lost = in
		}
	}
	var survivors []*instance
	before := map[string]int64{}
	for _, in := range nodes {
		if in != lost {
			survivors = append(survivors, in)
			before[in.name] = held(in)
		}
	}
	d = held(lost)

	lost.kill()
	killed := time.Now()
	var outAfter time.Duration
	testutil.Eventually(t, 3*time.Minute, "the lost node marked out", func() bool {
		var nj fleetNodeJSON
		a.cliJSON(&nj, "node", "show", lost.name)
		outAfter = time.Since(killed)
		return nj.Out
	})
	testutil.Eventually(t, 5*time.Minute, "every torrent back at 2 complete copies", func() bool { return atMin(survivors...) })
	back := time.Since(killed)

	testutil.Eventually(t, 30*time.Second, "fleet status: nothing under replicas_min nor fetching", func() bool {
		var st fleetStatusJSON
		a.cliJSON(&st, "fleet", "status")
		return st.Copies.UnderMin == 0 && st.Recovery.Fetching == 0
	})
	// Bytes moved: the torrents complete on each survivor now and not
	// before the kill (the catalog, through list; fleet status's
	// recovery window of a minute also holds the fetches before it).
	var moved, most int64
	var names, split []string
	for _, in := range survivors {
		got := held(in) - before[in.name]
		moved += got
		most = max(most, got)
		names = append(names, in.name)
		split = append(split, fmt.Sprintf("%s %d", in.name, got))
	}
	sCount := float64(len(survivors))
	rate := float64(rateMB << 20)
	grace := max(downOut, catalog.NodeUpTTL)
	transfer := float64(d) / (sCount * rate)
	bound := grace.Seconds() + transfer
	// The survivor receiving most sets the time: max(D_i) / rate.
	busiest := float64(most) / rate
	fmt.Printf("RESULT fleet recovery: %s lost holding D=%d bytes (of %d torrents of %d MiB), S=%d survivors (%s), fleet.recovery_rate %d MiB/s per node, grace %s (max of down_out_interval %s and NodeUpTTL %s)\n",
		lost.name, d, n, mb, len(survivors), strings.Join(names, ", "), rateMB, grace, downOut, catalog.NodeUpTTL)
	fmt.Printf("RESULT busiest survivor's share / rate: %.1f s (even split D/(S x rate): %.1f s)\n", busiest, transfer)
	fmt.Printf("RESULT lost node out after %.1f s; back at replicas_min after %.1f s (transfer after out: %.1f s) | bound %.1f s (D/(S x rate) %.1f s + grace %.0f s) | ratio %.2f (transfer alone %.2f)\n",
		outAfter.Seconds(), back.Seconds(), (back - outAfter).Seconds(), bound, transfer, grace.Seconds(),
		back.Seconds()/bound, (back-outAfter).Seconds()/transfer)
	fmt.Printf("RESULT bytes moved (new complete copies in the catalog): %s, total %d = %.3f x D\n",
		strings.Join(split, ", "), moved, float64(moved)/float64(d))
}
