package e2e

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// fleetExtra is the config of a fleet node in zone: the planner every
// second, a node down downOut is out, half the nodes may go out.
func fleetExtra(zone, downOut string) string {
	return "node:\n  zone: " + zone + "\nfleet:\n  down_out_interval: " + downOut + "\n  out_max_share: 0.5\n  plan_interval: 1s\n"
}

// threeNodes makes the fleet the fleet tests share: archivd a, b and c on
// 127.0.0.2, .3 and .4, zones z1, z1 and z2, one PostgreSQL (its URL
// returned), a node down downOut is out; more fleet keys ("  key: value\n"
// lines) may follow. None is started.
func threeNodes(t *testing.T, downOut string, fleetKeys ...string) (url string, a, b, c *instance) {
	t.Helper()
	_, _, url = pgtest.Own(t)
	keys := strings.Join(fleetKeys, "")
	a = newInstanceOpts(t, "a", instanceOpts{dbURL: url, host: "127.0.0.2", extra: fleetExtra("z1", downOut) + keys})
	b = newInstanceOpts(t, "b", instanceOpts{dbURL: url, host: "127.0.0.3", extra: fleetExtra("z1", downOut) + keys})
	c = newInstanceOpts(t, "c", instanceOpts{dbURL: url, host: "127.0.0.4", extra: fleetExtra("z2", downOut) + keys})
	return url, a, b, c
}

type fleetNodeJSON struct {
	Up          bool    `json:"up"`
	Out         bool    `json:"out"`
	DownSeconds float64 `json:"down_seconds"`
}

type fleetStatusJSON struct {
	Copies struct {
		UnderMin    int64 `json:"under_min"`
		AtRisk      int64 `json:"at_risk"`
		AtRiskBytes int64 `json:"at_risk_bytes"`
		Fetching    int64 `json:"fetching"`
	} `json:"copies"`
	Leader   string `json:"planner_leader"`
	Recovery struct {
		Fetching    int64   `json:"fetching"`
		BytesLeft   int64   `json:"bytes_left"`
		BytesPerSec float64 `json:"bytes_per_sec"`
		Nodes       []struct {
			Node        string `json:"node"`
			WindowBytes int64  `json:"window_bytes"`
		} `json:"nodes"`
	} `json:"recovery"`
}

// complete reports whether in holds a complete replica of name, and where.
func (in *instance) complete(name string, pieces int) (bool, string) {
	in.t.Helper()
	var tj torrentJSON
	in.cliJSON(&tj, "show", name)
	r := in.listedReplicas()[name]
	return r.Local && tj.PiecesComplete == pieces, tj.DataDir
}

// TestFleetKeepsReplicasMinAndRecoversALostNode: three archivd processes
// (127.0.0.2, .3, .4; zones z1, z1, z2) on one PostgreSQL, a collection
// with replicas_min 2. The torrent added on a is placed on c (the other
// zone) and fetched from a, bit-identical. a is SIGKILLed for good: with
// noout set it is down for several intervals and nothing moves (NODE_DOWN
// raised); once noout is unset it is marked out, the planner (now another
// node: a led it) places the torrent on b, which fetches it from c:
// back at 2 complete copies, bit-identical; NODE_DOWN cleared.
func TestFleetKeepsReplicasMinAndRecoversALostNode(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, uint64(time.Now().UnixNano())))
	_, a, b, c := threeNodes(t, "3s")
	src := filepath.Join(t.TempDir(), "dataset")
	writeRandomTree(t, src, rng, map[string]int{"f0.bin": 3<<20 + 17, "d/f1.bin": 2 << 20})
	tj := a.adopt("science", src, "256KiB", "")
	a.cli(0, "collection", "replicas", "science", "--replicas-min", "2", "--replicas-max", "2")
	a.start()
	testutil.Eventually(t, time.Minute, "a leads the planner", func() bool {
		return strings.Contains(a.log.String(), `"leading":true`)
	})
	b.start()
	c.start()

	var cDir string
	testutil.Eventually(t, 2*time.Minute, "the torrent complete on c", func() bool {
		ok, dir := c.complete("dataset", tj.PieceCount)
		cDir = dir
		return ok
	})
	if !sameTree(t, src, cDir) {
		t.Fatalf("c's copy in %s differs from a's %s", cDir, src)
	}
	if r := b.listedReplicas()["dataset"]; r.Local {
		t.Fatalf("b got a replica too: %+v (zones first: c, in z2)", r)
	}
	var st fleetStatusJSON
	a.cliJSON(&st, "fleet", "status")
	if st.Copies.UnderMin != 0 || st.Copies.AtRisk != 0 || st.Leader != "a" {
		t.Fatalf("fleet status with 2 copies: %+v", st)
	}

	// a is lost; noout holds it in however long it is away.
	b.cli(0, "fleet", "set", "noout", "--reason", "test")
	a.kill()
	node := func(id string) fleetNodeJSON {
		var n fleetNodeJSON
		b.cliJSON(&n, "node", "show", id)
		return n
	}
	// Down is counted from the last heartbeat: a is down after NodeUpTTL,
	// then past the interval for 12 s (12 planner passes) more.
	testutil.Eventually(t, 2*time.Minute, "a down past down_out_interval for 12 s", func() bool {
		n := node("a")
		return !n.Up && n.DownSeconds > catalog.NodeUpTTL.Seconds()+12
	})
	testutil.Eventually(t, 30*time.Second, "another node leads the planner", func() bool {
		return strings.Contains(b.log.String()+c.log.String(), `"leading":true`)
	})
	if n := node("a"); n.Out {
		t.Fatal("a marked out while noout is set")
	}
	if r := b.listedReplicas()["dataset"]; r.Local {
		t.Fatal("b got a replica while noout is set")
	}
	if out, _, code := b.run("health"); code == 0 || !strings.Contains(out, "NODE_DOWN") {
		t.Fatalf("health with a down: exit %d\n%s", code, out)
	}
	b.cliJSON(&st, "fleet", "status")
	if st.Copies.UnderMin != 0 || st.Copies.AtRisk != 1 || st.Copies.AtRiskBytes == 0 {
		t.Fatalf("fleet status with a down, not out: %+v, want 0 under min (a still counts), 1 at risk", st)
	}

	b.cli(0, "fleet", "unset", "noout")
	unset := time.Now()
	testutil.Eventually(t, 30*time.Second, "a marked out", func() bool { return node("a").Out })
	outAfter := time.Since(unset)
	var bDir string
	testutil.Eventually(t, 2*time.Minute, "the torrent complete on b", func() bool {
		ok, dir := b.complete("dataset", tj.PieceCount)
		bDir = dir
		return ok
	})
	backAfter := time.Since(unset)
	if !sameTree(t, src, bDir) || !sameTree(t, src, cDir) {
		t.Fatalf("b's copy (%s) or c's (%s) differs from the original", bDir, cDir)
	}
	if !strings.Contains(b.log.String()+c.log.String(), `"to_node":"b"`) {
		t.Fatal("no planner log of the placement on b")
	}
	b.cliJSON(&st, "fleet", "status")
	if st.Copies.UnderMin != 0 || st.Copies.AtRisk != 0 || st.Copies.Fetching != 0 || st.Recovery.Fetching != 0 || st.Recovery.BytesLeft != 0 {
		t.Fatalf("fleet status after recovery: %+v", st)
	}
	// The bytes b fetched, from its samples of its placed replica's pieces
	// complete (the recovery window is a minute: b fetched within it; b
	// samples at its next planner pass).
	var moved int64
	testutil.Eventually(t, 30*time.Second, "b's fetch in fleet status's recovery", func() bool {
		b.cliJSON(&st, "fleet", "status")
		for _, n := range st.Recovery.Nodes {
			if n.Node == "b" {
				moved = n.WindowBytes
			}
		}
		return moved > 0
	})
	if total := int64(5<<20 + 17); moved > total || st.Recovery.Fetching != 0 {
		t.Fatalf("recovery bytes fetched by b over the last minute: %d, want 1..%d: %+v", moved, total, st.Recovery)
	}
	t.Logf("recovery of %d bytes after noout unset (a down past down_out_interval 3s): a out after %.1fs, back at replicas_min (complete on b) after %.1fs; b fetched %d bytes (fleet status recovery)",
		5<<20+17, outAfter.Seconds(), backAfter.Seconds(), moved)
	if out, _, _ := b.run("health"); strings.Contains(out, "NODE_DOWN") {
		t.Fatalf("NODE_DOWN still raised for a out:\n%s", out)
	}
}
