package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// TestFleetLeaderKilledMidPlacement: three archivd processes (a, b, c on
// 127.0.0.2, .3, .4; zones z1, z1, z2) on one PostgreSQL, planner pass
// every second (lease TTL 3 s), at most 4 replicas fetching per node,
// recovery_rate 2 MiB/s, recovery_send_rate 8 MiB/s. b holds 40 small torrents; a leads the planner.
// Once replicas_min is set to 2, a places them on c (the other zone) four
// at a time; a is SIGKILLed mid-placement (it placed some, not all).
// Another node leads within the design bound (the lease TTL plus a pass
// interval, from the kill), finishes the placement, and every torrent
// ends with exactly two replicas, on b and c, complete on c: none lost,
// none doubled, the dead leader's placements kept as it made them. The
// lease row names the new leader and a write as a is refused.
func TestFleetLeaderKilledMidPlacement(t *testing.T) {
	t.Parallel()
	const n = 40
	rng := rand.New(rand.NewPCG(23, uint64(time.Now().UnixNano())))
	url, a, b, c := threeNodes(t, "60s", "  recovery_rate: 2MiB\n  recovery_send_rate: 8MiB\n  max_recoveries_per_node: 4\n")
	db := pgtest.Open(t, url)
	ctx := context.Background()
	files := map[string]int{}
	var srcs []string
	for i := range n {
		name := fmt.Sprintf("t%02d.bin", i)
		files[name] = 384<<10 + rng.IntN(1000)
		srcs = append(srcs, filepath.Join(b.dir, "src", name))
	}
	writeRandomTree(t, filepath.Join(b.dir, "src"), rng, files)
	b.cli(0, "collection", "create", "science")
	b.cli(0, append([]string{"add", "-c", "science", "--piece-length", "64KiB"}, srcs...)...)
	// Placement and take-over only: a, killed but up until its heartbeat
	// lease runs out, holds nothing and would be a rebalance target.
	b.cli(0, "fleet", "set", "norebalance", "--reason", "placement and take-over only")

	a.start()
	testutil.Eventually(t, time.Minute, "a leads the planner", func() bool {
		h, err := db.PlannerLeader(ctx)
		return err == nil && h == "a"
	})
	b.start()
	c.start()
	count := func(sql string) int64 { return pgtest.Int(t, db, sql) }
	testutil.Eventually(t, time.Minute, "b and c registered", func() bool {
		return count(`SELECT count(*) FROM nodes WHERE id IN ('b', 'c')`) == 2
	})
	b.cli(0, "collection", "replicas", "science", "--replicas-min", "2", "--replicas-max", "2")

	// a places some, then dies.
	testutil.Eventually(t, 2*time.Minute, "a placed 8 replicas", func() bool {
		return count(`SELECT count(*) FROM replicas WHERE placed_by = 'a'`) >= 8
	})
	a.kill()
	killed := time.Now()
	byA := count(`SELECT count(*) FROM replicas WHERE placed_by = 'a'`)
	if byA >= n {
		t.Fatalf("a placed all %d before the kill: the test needs a slower placement", byA)
	}

	// Another node leads: a's lease expires at most TTL after its last
	// renewal (before the kill), and the others try at every pass.
	pol := fleet.Policy{Interval: time.Second}
	var leader string
	testutil.Eventually(t, time.Minute, "another node leads the planner", func() bool {
		h, err := db.PlannerLeader(ctx)
		leader = h
		return err == nil && h != "" && h != "a"
	})
	tookOver := time.Since(killed)
	// The design bound is TTL + one interval; the pass itself and the
	// polling above take time on a loaded 2-core machine: 10 s of slack.
	if bound := pol.LeaseTTL() + pol.Interval; tookOver > bound+10*time.Second {
		t.Fatalf("%s led %s after a's kill, design bound %s (lease TTL %s + plan_interval %s)", leader, tookOver, bound, pol.LeaseTTL(), pol.Interval)
	}
	// Fencing: the lease is the new leader's; a write as a is refused.
	if _, err := db.PlanPass(ctx, "a", 0, func([]catalog.PlanNode, []catalog.PlanTorrent) []catalog.PlanPlacement {
		t.Error("a pass as a reached choose after the take-over")
		return nil
	}); !errors.Is(err, catalog.ErrNotLeader) {
		t.Fatalf("a placement pass as a after %s took over: %v, want ErrNotLeader", leader, err)
	}

	testutil.Eventually(t, 3*time.Minute, "every torrent complete on c", func() bool {
		return count(`SELECT count(*) FROM replicas r JOIN torrents t ON t.id = r.torrent_id WHERE r.node_id = 'c'
			AND coalesce((SELECT sum(bit_count(p.complete)) FROM piece_chunks p WHERE p.torrent_id = r.torrent_id
			AND p.node_id = 'c'), 0) = t.piece_count`) == n
	})
	done := time.Since(killed)
	if got := count(`SELECT count(*) FROM (SELECT torrent_id FROM replicas GROUP BY torrent_id
		HAVING array_agg(node_id ORDER BY node_id) = '{b,c}') x`); got != n {
		t.Fatalf("%d torrents on exactly b and c, want %d:\n%v", got, n, replicaNodes(t, db))
	}
	if got := count(`SELECT count(*) FROM replicas`); got != 2*n {
		t.Fatalf("%d replicas, want %d", got, 2*n)
	}
	if got := count(`SELECT count(*) FROM replicas WHERE placed_by = 'a' AND node_id = 'c'`); got != byA {
		t.Fatalf("%d of a's placements on c at the end, %d at its kill", got, byA)
	}
	if got := count(`SELECT count(*) FROM replicas WHERE placed_by = '` + leader + `'`); got != n-byA {
		t.Fatalf("%s placed %d, want the %d a had not", leader, got, n-byA)
	}
	var st fleetStatusJSON
	b.cliJSON(&st, "fleet", "status")
	if st.Leader != leader || st.Copies.UnderMin != 0 || st.Copies.Fetching != 0 {
		t.Fatalf("fleet status at the end: %+v, want %s leading, nothing under min or fetching", st, leader)
	}
	if logs := b.log.String() + c.log.String(); !strings.Contains(logs, `"leading":true`) {
		t.Fatal("no leadership change logged by b or c")
	}
	// b sent the recoveries: its planner passes listed them for its
	// send limiter (fleet.recovery_send_rate), then none once c had them.
	if !strings.Contains(b.log.String(), `"recovering_from_here":`) {
		t.Fatal("b never listed a torrent being recovered from it")
	}
	testutil.Eventually(t, 30*time.Second, "b's list of torrents recovered from it empty", func() bool {
		return strings.Contains(b.log.String(), `"recovering_from_here":0`)
	})
	t.Logf("a SIGKILLed after placing %d of %d: %s led %.1fs after (bound %s + %s), all %d complete on c %.1fs after the kill",
		byA, n, leader, tookOver.Seconds(), pol.LeaseTTL(), pol.Interval, n, done.Seconds())
}

// replicaNodes lists each torrent's replica nodes, for a failure message.
func replicaNodes(t *testing.T, db *catalog.DB) map[int64][]string {
	t.Helper()
	m, err := db.ReplicaNodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}
