package e2e

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// TestFleetDrainThenJoinRebalances: five archivd processes (127.0.0.2 to
// .6; zones z1, z1, z2, z2, z3) on one PostgreSQL, ten torrents added on
// a in a collection with replicas_min = replicas_max = 2. Placement puts
// each torrent's second copy in another zone and the rebalance spreads
// the copies over the five nodes; every replica is bit-identical to the
// original. Node b is drained, then node f (127.0.0.7, z3) joins: the
// rebalance moves replicas onto it until it holds its share. Sampled
// throughout the drain and the join: no torrent ever has fewer than 2
// complete copies not marked for removal. At rest: every torrent in two
// zones, no move in flight, the bytes moved onto f (all it holds: it
// joined after the drain) at most 1.1 x its share (the members' bytes
// over five), logged.
func TestFleetDrainThenJoinRebalances(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, uint64(time.Now().UnixNano())))
	_, _, url := pgtest.Own(t)
	db := pgtest.Open(t, url)
	zones := map[string]string{"a": "z1", "b": "z1", "c": "z2", "d": "z2", "e": "z3", "f": "z3"}
	nodes := map[string]*instance{}
	for i, id := range []string{"a", "b", "c", "d", "e", "f"} {
		nodes[id] = newInstanceOpts(t, id, instanceOpts{dbURL: url, host: fmt.Sprintf("127.0.0.%d", i+2), extra: fleetExtra(zones[id], "10m")})
	}
	a := nodes["a"]
	a.cli(0, "collection", "create", "science")
	a.cli(0, "collection", "replicas", "science", "--replicas-min", "2", "--replicas-max", "2")
	srcs := map[string]string{}
	root := t.TempDir()
	for i := range 10 {
		name := fmt.Sprintf("set%02d", i)
		srcs[name] = filepath.Join(root, name)
		writeRandomTree(t, srcs[name], rng, map[string]int{"f.bin": (2+i%3)<<16 + 100*i})
		a.cli(0, "add", "-c", "science", srcs[name], "--piece-length", "64KiB")
	}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		nodes[id].start()
	}

	// On a failure, what the trim pass sees of each replica: a torrent
	// left above its replicas_max has a copy that is not healthy.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replicas (torrent node availability complete open-findings node-seen-ago admin out):\n%s", pgtest.String(t, db,
				`SELECT coalesce(string_agg(concat_ws(' ', t.name, r.node_id, r.availability, r.completed_at IS NOT NULL,
					(SELECT count(*) FROM findings f WHERE f.torrent_id = r.torrent_id AND f.node_id = r.node_id AND f.state <> 'repaired'),
					now() - n.last_seen_at, n.admin_state, n.out_at IS NOT NULL), E'\n' ORDER BY t.name, r.node_id), '')
				FROM replicas r JOIN torrents t ON t.id = r.torrent_id LEFT JOIN nodes n ON n.id = r.node_id`))
		}
	})
	// state: every replica as name:node, + complete, * marked, < a move.
	state := func() string {
		return pgtest.String(t, db, `SELECT coalesce(string_agg(f, ' ' ORDER BY f), '') FROM (
			SELECT t.name || ':' || r.node_id ||
				CASE WHEN (SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p
					WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) >= t.piece_count THEN '+' ELSE '' END ||
				CASE WHEN r.remove_at IS NOT NULL THEN '*' ELSE '' END || CASE WHEN r.move_from <> '' THEN '<' ELSE '' END AS f
			FROM replicas r JOIN torrents t ON t.id = r.torrent_id) x`)
	}
	fewest := int64(99) // complete unmarked copies of the torrent with fewest, over the samples
	sample := func() {
		n := pgtest.Int(t, db, `SELECT min(n) FROM (SELECT t.id, count(r.node_id) FILTER (WHERE r.remove_at IS NULL
			AND (SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p
				WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) >= t.piece_count) AS n
			FROM torrents t LEFT JOIN replicas r ON r.torrent_id = t.id GROUP BY t.id) x`)
		fewest = min(fewest, n)
	}
	// settle waits until every replica is complete, none marked or moving,
	// the state unchanged for 4 planner intervals, cond holding.
	settle := func(what string, sampling bool, cond func(string) bool) string {
		var last string
		var since time.Time
		testutil.Eventually(t, 90*time.Second, what, func() bool {
			if sampling {
				sample()
			}
			s := state()
			if s != last {
				last, since = s, time.Now()
			}
			for _, f := range strings.Fields(s) {
				if !strings.HasSuffix(f, "+") {
					return false
				}
			}
			return cond(s) && time.Since(since) > 4*time.Second
		})
		return last
	}
	holders := func(s string) map[string][]string {
		m := map[string][]string{}
		for _, f := range strings.Fields(s) {
			name, node, _ := strings.Cut(strings.TrimSuffix(f, "+"), ":")
			m[name] = append(m[name], node)
		}
		return m
	}
	twoZones := func(s string) {
		t.Helper()
		for name, hs := range holders(s) {
			if len(hs) != 2 || zones[hs[0]] == zones[hs[1]] {
				t.Fatalf("%s on %v: want 2 copies in 2 zones\n%s", name, hs, s)
			}
		}
	}
	// Every complete replica is the original's bytes.
	sameData := func() {
		t.Helper()
		for _, line := range strings.Split(pgtest.String(t, db, `SELECT string_agg(t.name || ' ' || r.data_dir, E'\n')
			FROM replicas r JOIN torrents t ON t.id = r.torrent_id WHERE r.remove_at IS NULL`), "\n") {
			name, dir, _ := strings.Cut(line, " ")
			if !sameTree(t, srcs[name], dir) {
				t.Fatalf("the replica of %s in %s differs from the original", name, dir)
			}
		}
	}
	load := func(node string) int64 {
		return pgtest.Int(t, db, `SELECT coalesce(sum(t.total_length), 0) FROM replicas r JOIN torrents t ON t.id = r.torrent_id
			WHERE r.node_id = $1 AND r.remove_at IS NULL`, node)
	}

	// twoCopies: ten torrents, each on exactly 2 nodes. At rest includes
	// the trim of a surplus copy: a copy that is not healthy for a moment
	// (a node whose heartbeat is late on a loaded machine is not up) keeps
	// the others from being trimmed until it is again, and the state can
	// hold still for a few passes with 3 copies of a torrent.
	twoCopies := func(s string) bool {
		hs := holders(s)
		if len(hs) != 10 {
			return false
		}
		for _, h := range hs {
			if len(h) != 2 {
				return false
			}
		}
		return true
	}
	s := settle("ten torrents at 2 complete copies, spread over the five nodes", false, func(s string) bool {
		return twoCopies(s) && strings.Contains(s, ":b+")
	})
	twoZones(s)
	sameData()
	t.Logf("placed and balanced: %s", s)

	start := time.Now()
	a.cli(0, "node", "drain", "b", "--reason", "retire")
	s = settle("b drained, ten torrents at 2 copies", true, func(s string) bool { return !strings.Contains(s, ":b") && twoCopies(s) })
	twoZones(s)
	drained := time.Since(start)

	start = time.Now()
	f := nodes["f"]
	f.start()
	s = settle("rebalanced onto f, ten torrents at 2 copies", true, func(s string) bool { return strings.Contains(s, ":f+") && twoCopies(s) })
	joined := time.Since(start)
	twoZones(s)
	sameData()
	sample()
	if fewest < 2 {
		t.Fatalf("a torrent had %d complete copies at a sample during the drain and the join, want at least 2", fewest)
	}
	var total int64
	for _, id := range []string{"a", "c", "d", "e", "f"} {
		total += load(id)
	}
	share := float64(total) / 5
	onF := load("f")
	t.Logf("drain of b took %.1fs, rebalance onto f %.1fs; fewest complete copies sampled: %d; bytes moved onto f: %d for a share of %.0f (%.2fx)",
		drained.Seconds(), joined.Seconds(), fewest, onF, share, float64(onF)/share)
	if float64(onF) > 1.1*share || float64(onF) < 0.5*share {
		t.Fatalf("f holds %d bytes for a share of %.0f: want at most 1.1x (and a real share)", onF, share)
	}
	var st struct {
		Balance struct {
			MovesInFlight int `json:"moves_in_flight"`
			Nodes         []struct {
				Node      string `json:"node"`
				LoadBytes int64  `json:"load_bytes"`
			} `json:"nodes"`
		} `json:"balance"`
	}
	a.cliJSON(&st, "fleet", "status")
	if st.Balance.MovesInFlight != 0 || len(st.Balance.Nodes) != 5 {
		t.Fatalf("fleet status balance at rest: %+v", st.Balance)
	}
}
