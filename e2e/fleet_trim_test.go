package e2e

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

type nodeReplicasJSON struct {
	Replicas struct {
		Replicas int64 `json:"replicas"`
		Removing int64 `json:"removing"`
	} `json:"replicas"`
}

// TestFleetTrimsAboveReplicasMaxAndDrainEmptiesANode: three archivd
// processes (127.0.0.2, .3, .4; zones z1, z1, z2) on one PostgreSQL, a
// collection with replicas_min = replicas_max = 2. The torrent added on a
// is placed on c. `node out c`: it is placed on b (c keeps its copy);
// `node in c`: three healthy copies, one of z1's is trimmed (c, the only
// one of z2, stays); its files are deleted only if the planner placed it
// (b), kept otherwise (a's adopted data) with a log line saying so. Then
// `node drain c`: the torrent is placed on the z1 node without a copy, and
// once that copy is complete c's copy is removed and its files deleted;
// never fewer than 2 complete copies at every sample; c then shows 0
// replicas and is forgotten once stopped.
func TestFleetTrimsAboveReplicasMaxAndDrainEmptiesANode(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, uint64(time.Now().UnixNano())))
	url, a, b, c := threeNodes(t, "3s")
	db := pgtest.Open(t, url)
	src := filepath.Join(t.TempDir(), "dataset")
	writeRandomTree(t, src, rng, map[string]int{"f0.bin": 3<<20 + 17, "d/f1.bin": 2 << 20})
	tj := a.adopt("science", src, "256KiB", "")
	a.cli(0, "collection", "replicas", "science", "--replicas-min", "2", "--replicas-max", "2")
	a.start()
	b.start()
	c.start()
	nodes := map[string]*instance{"a": a, "b": b, "c": c}
	dirs := map[string]string{"a": src}
	completeOn := func(in *instance) bool {
		ok, dir := in.complete("dataset", tj.PieceCount)
		if ok {
			dirs[in.name] = dir
		}
		return ok
	}
	holders := func() string { return strings.Join(a.listedReplicas()["dataset"].Nodes, ",") }
	logs := func() string { return a.log.String() + b.log.String() + c.log.String() }

	testutil.Eventually(t, 2*time.Minute, "the torrent complete on c (zone z2)", func() bool { return completeOn(c) })

	// Out: c's copy stops counting, the torrent is placed on b; c keeps its copy.
	a.cli(0, "node", "out", "c", "--reason", "test")
	testutil.Eventually(t, 2*time.Minute, "the torrent complete on b", func() bool { return completeOn(b) })
	if !sameTree(t, src, dirs["b"]) {
		t.Fatalf("b's copy in %s differs from the original", dirs["b"])
	}
	if h := holders(); h != "a,b,c" {
		t.Fatalf("holders with c out: %s, want a,b,c (an out node keeps its copy)", h)
	}

	// In: 3 healthy copies for replicas_max 2: one of z1's goes, c (z2) stays.
	a.cli(0, "node", "in", "c")
	var gone string
	testutil.Eventually(t, time.Minute, "a surplus copy removed", func() bool {
		switch holders() {
		case "b,c":
			gone = "a"
		case "a,c":
			gone = "b"
		}
		return gone != ""
	})
	if !strings.Contains(logs(), `"from_node":"`+gone+`","reason":"surplus copy: 3 healthy copies, replicas_max 2"`) {
		t.Fatalf("no planner log of the trim of %s's copy", gone)
	}
	_, err := os.Stat(dirs[gone])
	switch gone {
	case "a": // adopted on a: its files stay
		if err != nil || !sameTree(t, src, dirs["a"]) {
			t.Fatalf("a's own data in %s was touched by the trim: %v", dirs["a"], err)
		}
		if !strings.Contains(a.log.String(), "was not placed by the planner: its files are kept") {
			t.Fatal("a did not log that it keeps the files of its trimmed copy")
		}
	case "b": // placed on b: its files go
		if !os.IsNotExist(err) {
			t.Fatalf("b's placed copy in %s still there after the trim: %v", dirs["b"], err)
		}
	}
	kept := map[string]string{"a": "b", "b": "a"}[gone]
	t.Logf("trimmed: %s's copy", gone)

	// Drain c: the torrent goes back to the z1 node without a copy, then c's copy goes.
	minSeen := int64(99)
	sample := func() {
		n := pgtest.Int(t, db, `SELECT count(*) FROM replicas r JOIN torrents t ON t.id = r.torrent_id
			WHERE r.remove_at IS NULL AND (SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p
				WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) >= t.piece_count`)
		minSeen = min(minSeen, n)
	}
	a.cli(0, "node", "drain", "c", "--reason", "retire")
	testutil.Eventually(t, 2*time.Minute, "c drained", func() bool {
		sample()
		var n nodeReplicasJSON
		a.cliJSON(&n, "node", "show", "c")
		return n.Replicas.Replicas == 0
	})
	sample()
	t.Logf("fewest complete copies sampled during the drain: %d", minSeen)
	if minSeen < 2 {
		t.Fatalf("%d complete copies at a sample during the drain, want at least 2", minSeen)
	}
	if h := holders(); h != "a,b" {
		t.Fatalf("holders after the drain: %s, want a,b", h)
	}
	if !completeOn(nodes[gone]) || !sameTree(t, src, dirs[gone]) || !sameTree(t, src, dirs[kept]) {
		t.Fatalf("copies after the drain: %s in %s, %s in %s", gone, dirs[gone], kept, dirs[kept])
	}
	if _, err := os.Stat(dirs["c"]); !os.IsNotExist(err) {
		t.Fatalf("c's placed copy in %s still there after the drain: %v", dirs["c"], err)
	}
	if out := a.cli(0, "fleet", "status"); !strings.Contains(out, "draining: c: replicas 0 left to move off: drained") {
		t.Fatalf("fleet status after the drain:\n%s", out)
	}
	var st fleetStatusJSON
	a.cliJSON(&st, "fleet", "status")
	if st.Copies.UnderMin != 0 || st.Copies.Fetching != 0 {
		t.Fatalf("fleet status after the drain: %+v", st)
	}
	a.cli(4, "node", "forget", "c")
	c.stop()
	a.cli(0, "node", "forget", "c")
}
