package e2e

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

type replicaListJSON struct {
	Name           string   `json:"name"`
	InfoHash       string   `json:"infohash"`
	Local          bool     `json:"local"`
	Node           string   `json:"node"`
	Availability   string   `json:"availability"`
	Nodes          []string `json:"nodes"`
	PiecesComplete int      `json:"pieces_complete"`
}

func (in *instance) listedReplicas() map[string]replicaListJSON {
	in.t.Helper()
	var ts []replicaListJSON
	in.cliJSON(&ts, "list")
	out := map[string]replicaListJSON{}
	for _, t := range ts {
		out[t.Name] = t
	}
	return out
}

// TestSecondNodeWithoutTheDataLeavesTheFirstOneSeeding: two archivd
// processes on one PostgreSQL (127.0.0.1 and 127.0.0.2). Before replicas,
// the second node, which has no data, marked the torrent unavailable for
// the whole catalog and the first node dropped it from its engine. Now
// each node sees its own replica: node b holds none, runs nothing and
// changes nothing; node a keeps seeding it, available; list and show say
// which node holds it; b cannot verify it (a run of b's would judge
// nothing) while a's run is claimed by a.
func TestSecondNodeWithoutTheDataLeavesTheFirstOneSeeding(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, uint64(time.Now().UnixNano())))
	_, _, url := pgtest.Own(t)
	a := newInstanceOpts(t, "a", instanceOpts{dbURL: url, extra: "  per_torrent_metrics: true\n"})
	b := newInstanceOpts(t, "b", instanceOpts{dbURL: url, host: "127.0.0.2", extra: "  per_torrent_metrics: true\n"})
	src := filepath.Join(t.TempDir(), "dataset")
	writeRandomTree(t, src, rng, map[string]int{"f0.bin": 3<<20 + 17, "d/f1.bin": 2 << 20})
	tj := a.adopt("science", src, "256KiB", "")
	a.start()
	testutil.Eventually(t, time.Minute, "a seeds the torrent", func() bool { return a.inEngine(tj.InfoHash) })

	b.start()
	// Two full reconciles of b (one at start, one 5 s later): time for b to do harm.
	testutil.Eventually(t, time.Minute, "b reconciled twice", func() bool {
		return strings.Count(b.log.String(), `"full reconcile"`) >= 2
	})
	if b.inEngine(tj.InfoHash) {
		t.Fatal("b runs a torrent it holds no replica of")
	}
	if !a.inEngine(tj.InfoHash) {
		t.Fatal("a dropped the torrent from its engine after b started")
	}
	la, lb := a.listedReplicas()["dataset"], b.listedReplicas()["dataset"]
	if !la.Local || la.Node != "a" || la.Availability != "ok" || la.PiecesComplete != tj.PieceCount || strings.Join(la.Nodes, ",") != "a" {
		t.Fatalf("a lists %+v, want its own replica, ok and complete, held by a only", la)
	}
	if lb.Local || lb.Node != "b" || lb.PiecesComplete != 0 || strings.Join(lb.Nodes, ",") != "a" {
		t.Fatalf("b lists %+v, want no replica on b, held by a", lb)
	}
	if out := b.cli(0, "list"); !strings.Contains(out, "elsewhere") {
		t.Fatalf("b's list does not say the torrent is elsewhere:\n%s", out)
	}
	show := b.cli(0, "show", "dataset")
	if !strings.Contains(show, "no replica on this node (b)") || !strings.Contains(show, "replicas:") {
		t.Fatalf("b's show:\n%s", show)
	}
	if out := a.cli(0, "show", "dataset"); !strings.Contains(out, "a (this node)") {
		t.Fatalf("a's show does not name its replica:\n%s", out)
	}
	_, stderr, code := b.run("verify", "dataset", "--wait")
	if code == 0 || !strings.Contains(stderr, `no replica on node "b"`) {
		t.Fatalf("b verify of a torrent it does not hold: exit %d, stderr %s", code, stderr)
	}
	a.cli(0, "verify", "dataset", "--wait")
	// b plans its own scheduled runs (over nothing: it holds no replica);
	// the manual run asked of a is a's alone.
	if !strings.Contains(a.log.String(), `"kind":"manual"`) || strings.Contains(b.log.String(), `"kind":"manual"`) {
		t.Fatal("a's manual run was not worked by a alone")
	}
	if !a.inEngine(tj.InfoHash) || a.listedReplicas()["dataset"].Availability != "ok" {
		t.Fatal("a's replica is no longer seeding and available at the end")
	}
}
