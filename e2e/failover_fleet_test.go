package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// TestFailoverDuringFleetRecovery: two fleet nodes, x (z1, 127.0.0.2) and
// y (z2, 127.0.0.3), on a catalog on a PostgreSQL primary with a
// synchronous streaming standby, both reached through the multi-host URL.
// x holds a torrent with replicas_min 2: the planner places it on y,
// which fetches it from x (fleet.recovery_rate 1 MiB/s on y). A quarter
// into that fetch the standby is promoted and the primary stopped. No
// node is restarted: both reconnect to the new primary; x seeds the
// torrent throughout; y finishes its replica, bit-identical, recorded on
// the new primary; no completion recorded before the failover is lost;
// both nodes heartbeat on the new primary (up, none out); the planner
// lease is renewed there; the placement is not doubled (one placement,
// replicas on x and y only).
func TestFailoverDuringFleetRecovery(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	primary, standby := replicatedCatalog(ctx, t)
	p1, p2 := primary.Port(), standby.Port()
	url := multiHostURL(p1, p2)
	x := newInstanceOpts(t, "x", instanceOpts{dbURL: url, host: "127.0.0.2", extra: "  per_torrent_metrics: true\n" + fleetExtra("z1", "60s")})
	y := newInstanceOpts(t, "y", instanceOpts{dbURL: url, host: "127.0.0.3", extra: fleetExtra("z2", "60s") + "  recovery_rate: 1MiB\n"})
	x.cli(0, "migrate")
	src := makeDataset(t, x.dir, newRand()) // ~24 MiB: ~24 s at 1 MiB/s
	tj := x.adopt("science", src, "256KiB", "")
	x.cli(0, "collection", "replicas", "science", "--replicas-min", "2", "--replicas-max", "2")
	x.start()
	y.start()
	yPieces := func(port int) int {
		return onlyValue(t, psql(t, "127.0.0.1", port, "archivd",
			`SELECT coalesce(sum(bit_count(complete)), 0) FROM piece_chunks WHERE node_id = 'y'`))
	}
	testutil.Eventually(t, 3*time.Minute, "y a quarter into its placed replica", func() bool {
		return yPieces(p1)*4 >= tj.PieceCount
	})
	before := completeBits(t, p1)
	if n := yPieces(p1); n == tj.PieceCount {
		t.Fatal("y finished before the failover: the test needs a slower transfer")
	}
	if err := standby.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	stopCluster(primary)
	failedOver := time.Now()

	running := func() {
		t.Helper()
		for _, in := range []*instance{x, y} {
			select {
			case err := <-in.done:
				t.Fatalf("%s exited during the failover: %v", in.name, err)
			default:
			}
		}
		if !x.inEngine(tj.InfoHash) {
			t.Fatal("x dropped the torrent it seeds from its engine during the failover")
		}
	}
	var yDir string
	testutil.Eventually(t, 4*time.Minute, "y's placed replica complete on the new primary", func() bool {
		running()
		ok, dir := y.complete("dataset", tj.PieceCount)
		yDir = dir
		return ok
	})
	running()
	t.Logf("failover: y completed its placed replica %s after the primary stopped", time.Since(failedOver).Round(time.Second))
	if !sameTree(t, src, yDir) {
		t.Fatalf("y's copy in %s differs from x's", yDir)
	}
	keptCompletions(t, before, completeBits(t, p2))

	// Heartbeats and the planner lease go on on the new primary: rows
	// written after the failover (the lease lasts 3 s: one live now was
	// renewed after it).
	since := fmt.Sprintf("to_timestamp(%d)", failedOver.Unix()+1)
	testutil.Eventually(t, time.Minute, "both nodes heartbeating on the new primary", func() bool {
		return onlyValue(t, psql(t, "127.0.0.1", p2, "archivd", `SELECT count(*) FROM nodes WHERE last_seen_at > `+since)) == 2
	})
	testutil.Eventually(t, 30*time.Second, "a planner lease renewed on the new primary", func() bool {
		return onlyValue(t, psql(t, "127.0.0.1", p2, "archivd", `SELECT count(*) FROM leases WHERE name = 'planner'
			AND expires_at > clock_timestamp() AND expires_at > `+since+` + interval '3 seconds'`)) == 1
	})
	var st fleetStatusJSON
	x.cliJSON(&st, "fleet", "status")
	if st.Leader == "" || st.Copies.UnderMin != 0 || st.Copies.Fetching != 0 {
		t.Fatalf("fleet status after the failover: %+v, want a leader, nothing under min or fetching", st)
	}
	for _, id := range []string{"x", "y"} {
		var n fleetNodeJSON
		x.cliJSON(&n, "node", "show", id)
		if !n.Up || n.Out {
			t.Fatalf("node %s after the failover: %+v, want up and in", id, n)
		}
	}
	if got := strings.TrimSpace(psql(t, "127.0.0.1", p2, "archivd", `SELECT string_agg(node_id, ',' ORDER BY node_id) FROM replicas`)); !strings.Contains(got, "\nx,y") {
		t.Fatalf("replicas on %q, want x,y", got)
	}
	logs := x.log.String() + y.log.String()
	if n := strings.Count(logs, "fleet planner: replica placed"); n != 1 {
		t.Fatalf("%d placements logged, want 1", n)
	}
	if strings.Contains(logs, "node marked out") {
		t.Fatal("a node was marked out during the failover")
	}
	for _, in := range []*instance{x, y} {
		for _, line := range []string{"catalog change listener down", "catalog change listener up again"} {
			if !strings.Contains(in.log.String(), line) {
				t.Errorf("%s's log has no %q: the failover did not reach the daemon", in.name, line)
			}
		}
		if n := strings.Count(in.log.String(), "archivd serving"); n != 1 {
			t.Fatalf("%s started %d times, want once (no restart)", in.name, n)
		}
	}
	x.stop()
	y.stop()
}
