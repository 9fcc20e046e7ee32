package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// seedNode returns a running archivd node that has adopted the data set.
func (b *bench) seedNode(tag string) (*node, *dataSet, error) {
	s, err := b.set()
	if err != nil {
		return nil, nil, err
	}
	n, _, err := b.adoptNode(s, tag)
	return n, s, err
}

// leech runs k libtorrent leechers of s at once against the peer on port
// (each alone with that peer, TCP only, its own 127.0.R.x address) and
// returns the time until the last one has every piece.
func (b *bench) leech(s *dataSet, port, k int, tag string) (time.Duration, error) {
	began := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, k)
	for i := range k {
		dir := b.path("leech", fmt.Sprintf("%s-%d", tag, i))
		p, err := b.ltLeech(fmt.Sprintf("lt-leech-%s-%d", tag, i), s.torrent, dir, fmt.Sprintf("127.0.%d.%d", 1+b.ports%200, 1+i), port)
		if err != nil {
			return 0, err
		}
		wg.Go(func() {
			_, errs[i] = b.ltLeechWait(p)
			_ = os.RemoveAll(dir)
		})
	}
	wg.Wait()
	d := time.Since(began)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return d, nil
}

// figSeed: archivd and libtorrent seed the same files (page cache warm;
// with BENCH_SEED_COLD=1 dropped before each transfer)
// to one and to two libtorrent leechers at once; MB/s of all leechers
// together from their start to the last one's last piece.
func figSeed(b *bench) error {
	n, s, err := b.seedNode("seed")
	if err != nil {
		return err
	}
	defer n.stop()
	lp := b.port()
	lts, err := b.ltSeed("lt-seed", s.torrent, s.root, lp)
	if err != nil {
		return err
	}
	defer lts.stop(9, 10*time.Second)
	cold := os.Getenv("BENCH_SEED_COLD") == "1"
	fmt.Printf("FIGURE seed: %d MiB, libtorrent leechers over TCP, page cache %s\n", s.size>>20, map[bool]string{false: "warm", true: "dropped before each transfer"}[cold])
	type seedProc struct {
		name string
		port int
		pid  int
	}
	seeds := []seedProc{{"archivd", n.port, n.serve.cmd.Process.Pid}, {"libtorrent", lp, lts.cmd.Process.Pid}}
	// One transfer from each seed first, not counted: the first leecher
	// of a run loads libtorrent and python from disk, and whichever seed
	// it met first paid for it (archivd's round 1 was its worst in every
	// run).
	for _, sd := range seeds {
		if err := warm(s.files); err != nil {
			return err
		}
		if _, err := b.leech(s, sd.port, 1, "warmup-"+sd.name); err != nil {
			return fmt.Errorf("warm-up transfer from %s: %w", sd.name, err)
		}
	}
	res := map[string]*series{}
	for r := 1; r <= b.c.rounds; r++ {
		if err := warm(s.files); err != nil {
			return err
		}
		order := seeds
		if r%2 == 0 { // the seeds take turns at going first
			order = []seedProc{seeds[1], seeds[0]}
		}
		for _, k := range []int{1, 2} {
			for _, sd := range order {
				if cold {
					if err := dropCaches(); err != nil {
						return err
					}
				}
				stopPerf := b.perf(r, sd.pid, fmt.Sprintf("%s-%d", sd.name, k))
				d, err := b.leech(s, sd.port, k, fmt.Sprintf("r%d-%s-%d", r, sd.name, k))
				stopPerf()
				if err != nil {
					return fmt.Errorf("%s to %d: %w", sd.name, k, err)
				}
				key := fmt.Sprintf("%s/%d", sd.name, k)
				if res[key] == nil {
					res[key] = &series{}
				}
				res[key].add(mbps(int64(k)*s.size, d))
				fmt.Printf("ROUND %d %s seeds to %d leecher(s): %.2f s = %.0f MB/s\n", r, sd.name, k, d.Seconds(), mbps(int64(k)*s.size, d))
			}
		}
	}
	result("seeding to 1 libtorrent leecher, MB/s", "MB/s", res["archivd/1"], "libtorrent seeds", res["libtorrent/1"])
	result("seeding to 2 libtorrent leechers, MB/s (both)", "MB/s", res["archivd/2"], "libtorrent seeds", res["libtorrent/2"])
	return nil
}

// perf records the seed's CPU profile (perf record -g) during the first
// round's transfers when BENCH_PERF=1: BENCH_DIR/perf-SEED-LEECHERS.data.
func (b *bench) perf(round, pid int, tag string) func() {
	if os.Getenv("BENCH_PERF") != "1" || round != 1 {
		return func() {}
	}
	p, err := b.start("perf-"+tag, nil, "perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", b.path("perf-"+tag+".data"))
	if err != nil {
		fmt.Println("perf:", err)
		return func() {}
	}
	time.Sleep(300 * time.Millisecond) // perf attaches
	return func() { _ = p.stop(syscall.SIGINT, 30*time.Second) }
}

// figScrubSeed: archivd seeds to one libtorrent leecher, once idle and
// once while the same daemon scrubs (manual verify runs of the data set,
// one after the other, for the whole transfer), in alternating order.
func figScrubSeed(b *bench) error {
	n, s, err := b.seedNode("scrubseed")
	if err != nil {
		return err
	}
	defer n.stop()
	fmt.Printf("FIGURE scrubseed: %d MiB to 1 libtorrent leecher while the daemon scrubs the same files\n", s.size>>20)
	var idle, busy series
	for r := 1; r <= b.c.rounds; r++ {
		if err := warm(s.files); err != nil {
			return err
		}
		for i := range 2 {
			scrubbing := (i+r)%2 == 0
			var d time.Duration
			var runs int64
			if scrubbing {
				d, runs, err = b.leechWhileScrubbing(n, s, fmt.Sprintf("r%d-busy", r))
			} else {
				d, err = b.leech(s, n.port, 1, fmt.Sprintf("r%d-idle", r))
			}
			if err != nil {
				return err
			}
			if scrubbing {
				busy.add(mbps(s.size, d))
				fmt.Printf("ROUND %d seeding while scrubbing: %.2f s = %.0f MB/s (%d verify runs finished meanwhile)\n", r, d.Seconds(), mbps(s.size, d), runs)
			} else {
				idle.add(mbps(s.size, d))
				fmt.Printf("ROUND %d seeding idle: %.2f s = %.0f MB/s\n", r, d.Seconds(), mbps(s.size, d))
			}
		}
	}
	result("seeding to 1 leecher while scrubbing, MB/s", "MB/s", &busy, "archivd idle", &idle)
	return nil
}

// leechWhileScrubbing keeps `archivd verify --wait` runs going back to
// back from before the leecher starts until it is done.
func (b *bench) leechWhileScrubbing(n *node, s *dataSet, tag string) (time.Duration, int64, error) {
	var stop atomic.Bool
	var runs atomic.Int64
	var wg sync.WaitGroup
	started := make(chan struct{})
	var scrubErr error
	wg.Go(func() {
		close(started)
		for !stop.Load() {
			if _, err := n.cli("verify", "--wait", "-c", "set"); err != nil {
				scrubErr = err
				return
			}
			runs.Add(1)
		}
	})
	<-started
	// The daemon looks for queued runs every 2 s (or on NOTIFY): give the
	// first run time to start before the leecher does.
	time.Sleep(2500 * time.Millisecond)
	d, err := b.leech(s, n.port, 1, tag)
	stop.Store(true)
	wg.Wait()
	if err == nil {
		err = scrubErr
	}
	return d, runs.Load(), err
}
