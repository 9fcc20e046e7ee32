package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// Issue 12's catalog-scale targets.
const (
	fleetReconcileTarget = 5 * time.Second
	fleetPassTarget      = 10 * time.Second
	fleetPlaceTarget     = 60 * time.Second
)

// figFleetScale: a synthetic fleet of BENCH_FLEET_NODES (default 10)
// nodes and BENCH_FLEET_TORRENTS (default 100,000) one-piece torrents at
// 3 replicas, made by cmd/fleetrows in one catalog; one real `archivd
// serve` runs as node1 (zone z0) and holds its ~30,000 replicas on disk;
// the other nodes are rows kept up by this harness's heartbeats. From the
// serve log: node1's first full reconcile (adds every replica to the
// engine) and the next periodic one (nothing to add), and the planner's
// passes with nothing to do (node1 leads the planner). Then
// BENCH_FLEET_TORRENTS new torrents are added on the last node
// (fleetrows -add) and the planner places the two other copies of each:
// the time from the end of the add to the pass whose placements complete
// them, and the passes after (node1 settles those placed on it). Last, the
// synthetic nodes record their placed replicas complete (StorePieces) and
// the first pass begun after that is timed: 200,000 placed replicas that
// are complete, which the planner no longer reads for pending bytes.
// Against the targets: 5 s, 10 s, 60 s.
func figFleetScale(b *bench) error {
	nodes := int(envInt("BENCH_FLEET_NODES", 10))
	n := int(envInt("BENCH_FLEET_TORRENTS", 100000))
	bin := os.Getenv("FLEETROWS_BIN")
	if bin == "" {
		return fmt.Errorf("FLEETROWS_BIN must be set (bench/operator/run.sh sets it)")
	}
	fmt.Printf("FIGURE fleetscale: %d nodes, %d torrents at 3 replicas (one archivd serve, the other nodes synthetic rows)\n", nodes, n)
	b.logLevel = "debug" // the planner's pass line
	b.extraConf = "node: {zone: z0}\nfleet: {max_recoveries_per_node: 0, plan_interval: 10s}\nseeder: {reconcile_interval: 20s}\n"
	defer func() { b.logLevel, b.extraConf = "", "" }()
	nd, err := b.newNode("")
	if err != nil {
		return err
	}
	if nd.name != "node1" {
		return fmt.Errorf("fleetscale must make the run's first node (got %s): run it alone", nd.name)
	}
	// The synthetic nodes get node1's file system's capacity and free
	// space: a balanced fleet (nothing to rebalance), node1 a target like
	// the others.
	var fs syscall.Statfs_t
	if err := syscall.Statfs(b.c.dir, &fs); err != nil {
		return err
	}
	capacity, free := int64(fs.Blocks)*fs.Bsize, int64(fs.Bavail)*fs.Bsize
	t0 := time.Now()
	out, err := exec.CommandContext(b.ctx, bin, "-db", nd.url, "-dir", b.path("fleet", "data"), "-nodes", strconv.Itoa(nodes),
		"-torrents", strconv.Itoa(n), "-local", nd.name, "-capacity", strconv.FormatInt(capacity, 10),
		"-free", strconv.FormatInt(free-int64(n)*16384*3/int64(nodes), 10)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fleetrows: %v: %s", err, out)
	}
	fmt.Printf("RESULT generate %d torrents x 3 replicas on %d nodes (fleetrows) | %.1f s | %s", n, nodes, time.Since(t0).Seconds(), out)
	hctx, stopBeats := context.WithCancel(b.ctx)
	var beats sync.WaitGroup
	beats.Add(1)
	go func() { defer beats.Done(); b.heartbeats(hctx, nd, nodes) }()
	defer func() { stopBeats(); beats.Wait() }()

	if err := nd.start("fleet"); err != nil {
		return err
	}
	first, i, err := nd.logJSON(0, 10*time.Minute, func(m map[string]any) bool { return m["message"] == "full reconcile" })
	if err != nil {
		return err
	}
	steady, _, err := nd.logJSON(i+1, 3*time.Minute, func(m map[string]any) bool { return m["message"] == "full reconcile" })
	if err != nil {
		return err
	}
	fmt.Printf("ROUND first full reconcile: %s\nROUND next full reconcile: %s\n", fields(first, "runnable", "added", "took_ms", "list_ms", "add_ms"),
		fields(steady, "runnable", "added", "took_ms", "list_ms", "add_ms"))
	var idle []map[string]any
	from := i + 1
	for len(idle) < 3 {
		p, j, err := nd.logJSON(from, 2*time.Minute, isLeadingPass)
		if err != nil {
			return err
		}
		from = j + 1
		idle = append(idle, p)
		fmt.Printf("ROUND idle pass: %s\n", fields(p, passFields...))
	}

	t1 := time.Now()
	from = nd.serve.lineCount() // passes from here on place the new torrents
	out, err = exec.CommandContext(b.ctx, bin, "-db", nd.url, "-dir", b.path("fleet", "data"), "-add", strconv.Itoa(n),
		"-on", fmt.Sprintf("node%d", nodes)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fleetrows -add: %v: %s", err, out)
	}
	added := time.Now()
	fmt.Printf("RESULT add %d new torrents on node%d (fleetrows -add) | %.1f s | %s", n, nodes, added.Sub(t1).Seconds(), out)
	placed := 0
	var placing []map[string]any
	var doneAt time.Time
	for placed < 2*n {
		p, j, at, err := nd.logJSONAt(from, 5*time.Minute, isLeadingPass)
		if err != nil {
			return fmt.Errorf("%d of %d placements seen: %w", placed, 2*n, err)
		}
		from = j + 1
		placed += int(num(p, "placed"))
		placing = append(placing, p)
		doneAt = at
		fmt.Printf("ROUND placing pass: %s\n", fields(p, passFields...))
	}
	place := max(doneAt.Sub(added), 0)
	after, _, err := nd.logJSON(from, 5*time.Minute, isLeadingPass)
	if err != nil {
		return err
	}
	fmt.Printf("ROUND pass after placing: %s\n", fields(after, passFields...))

	// The synthetic nodes complete their placed replicas (every piece
	// recorded complete through the catalog, as a node's store does), so
	// the catalog holds 200,000 placed replicas that are complete: the
	// planner's pending bytes read only the placed ones not complete
	// (replicas.completed_at). The second leading pass after that is the
	// first to begin after it.
	t2 := time.Now()
	done, err := completePlaced(b, nd, nodes)
	if err != nil {
		return err
	}
	fmt.Printf("RESULT synthetic nodes complete their placed replicas (StorePieces) | %.1f s | %d replicas\n", time.Since(t2).Seconds(), done)
	from = nd.serve.lineCount()
	var completed map[string]any
	for range 2 {
		p, j, err := nd.logJSON(from, 5*time.Minute, isLeadingPass)
		if err != nil {
			return err
		}
		from, completed = j+1, p
	}
	fmt.Printf("ROUND pass after the placed replicas complete: %s\n", fields(completed, passFields...))

	res := func(what string, got float64, target time.Duration) {
		verdict := "met"
		if got > target.Seconds() {
			verdict = "NOT met"
		}
		fmt.Printf("RESULT %s | %.2f s | target %.0f s: %s\n", what, got, target.Seconds(), verdict)
	}
	res(fmt.Sprintf("node1 first full reconcile of %d replicas (engine adds all; took_ms)", int(num(first, "runnable"))), num(first, "took_ms")/1000, fleetReconcileTarget)
	res(fmt.Sprintf("node1 periodic full reconcile of %d replicas (nothing to add; took_ms)", int(num(steady, "runnable"))), num(steady, "took_ms")/1000, fleetReconcileTarget)
	var passMS []float64
	for _, p := range idle {
		passMS = append(passMS, num(p, "took_ms"))
	}
	slices.Sort(passMS)
	res("planner pass with nothing to do (median of 3, took_ms)", passMS[1]/1000, fleetPassTarget)
	res(fmt.Sprintf("placing %d new torrents (2 copies each) from the add's end to the pass that completes them (%d passes)", n, len(placing)),
		place.Seconds(), fleetPlaceTarget)
	res("first pass after placing (node1 settles its placed replicas; took_ms)", num(after, "took_ms")/1000, fleetPassTarget)
	res(fmt.Sprintf("pass after the %d placed replicas complete (took_ms)", done), num(completed, "took_ms")/1000, fleetPassTarget)
	return nil
}

var passFields = []string{"placed", "marked", "took_ms", "settle_ms", "sample_ms", "remove_ms", "lease_ms", "out_ms", "place_ms", "balance_ms", "trim_ms", "sending_ms"}

func isLeadingPass(m map[string]any) bool {
	return m["message"] == "fleet planner: pass" && m["leading"] == true
}

// heartbeats keeps nodes node2..nodeN up (last_seen_at) until ctx ends.
func (b *bench) heartbeats(ctx context.Context, nd *node, nodes int) {
	for {
		for k := 2; k <= nodes; k++ {
			if err := nd.db.TouchNode(ctx, fmt.Sprintf("node%d", k)); err != nil && ctx.Err() == nil {
				fmt.Println("heartbeat:", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}

// logJSON waits for the first JSON line of the serve log (from line from
// on) that match accepts and returns it decoded and its index.
func (n *node) logJSON(from int, timeout time.Duration, match func(map[string]any) bool) (map[string]any, int, error) {
	m, i, _, err := n.logJSONAt(from, timeout, match)
	return m, i, err
}

func (n *node) logJSONAt(from int, timeout time.Duration, match func(map[string]any) bool) (map[string]any, int, time.Time, error) {
	var got map[string]any
	at, i, err := n.serve.waitLine(n.b.ctx, from, timeout, func(l string) bool {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || !match(m) {
			return false
		}
		got = m
		return true
	})
	return got, i, at, err
}

func (p *proc) lineCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

func num(m map[string]any, k string) float64 {
	f, _ := m[k].(float64)
	return f
}

// fields prints the keys of a log line that it has, k=v.
func fields(m map[string]any, keys ...string) string {
	var out []string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out = append(out, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(out, " ")
}

// completePlaced records every piece of the replicas placed on the
// synthetic nodes node2..nodeN complete, as their stores would (batches
// of 1,000 torrents, one goroutine per node), and returns how many.
func completePlaced(b *bench, nd *node, nodes int) (int, error) {
	var mu sync.Mutex
	var total int
	var firstErr error
	var wg sync.WaitGroup
	for k := 2; k <= nodes; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := nd.db.ForNode(fmt.Sprintf("node%d", k))
			n, err := completeNode(b.ctx, db)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return total, firstErr
}

func completeNode(ctx context.Context, db *catalog.DB) (int, error) {
	ts, err := db.PlacedReplicas(ctx)
	if err != nil {
		return 0, err
	}
	for i := 0; i < len(ts); i += 1000 {
		ups := map[int64][]catalog.PieceUpdate{}
		for _, t := range ts[i:min(i+1000, len(ts))] {
			for p := range t.PieceCount {
				ups[t.ID] = append(ups[t.ID], catalog.PieceUpdate{Piece: p, Complete: true})
			}
		}
		if err := db.StorePieces(ctx, ups); err != nil {
			return i, fmt.Errorf("complete the replicas placed on %s: %w", db.NodeID(), err)
		}
	}
	return len(ts), nil
}
