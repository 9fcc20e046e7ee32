package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// manyTarget is issue 11's bound for a start of BENCH_MANY torrents after
// a clean stop; manyRSSTarget its bound on resident memory.
const (
	manyTarget    = 10 * time.Second
	manyRSSTarget = 2 << 30
)

// figMany: BENCH_MANY (default 100,000) one-piece torrents of 16 KiB,
// recorded complete in the catalog by cmd/manytorrents (a node after a
// clean stop). One warm-up start and clean stop, then per round a start
// from process start until every torrent seeds (node.seeding), the peak
// resident memory of the process by then (VmHWM), and a clean stop. The
// peer is the target: 10 s and 2 GiB.
func figMany(b *bench) error {
	n := int(envInt("BENCH_MANY", 100000))
	bin := os.Getenv("MANYTORRENTS_BIN")
	if bin == "" {
		return fmt.Errorf("MANYTORRENTS_BIN must be set (bench/operator/run.sh sets it)")
	}
	fmt.Printf("FIGURE many: %d torrents of 16 KiB, one piece each, recorded complete\n", n)
	nd, err := b.newNode("")
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(b.ctx, bin, "-db", nd.url, "-dir", b.path("many-small", "data"), "-n", strconv.Itoa(n)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("manytorrents: %v: %s", err, out)
	}
	fmt.Print(string(out))
	if err := nd.start("many-warmup"); err != nil {
		return err
	}
	if _, err := nd.seeding(n, 30*time.Minute); err != nil {
		return err
	}
	if err := nd.stop(); err != nil {
		return err
	}
	idleFor := time.Duration(envInt("BENCH_IDLE_SECS", 20)) * time.Second
	var ours, rss, stops, cpu, idle series
	for r := 1; r <= b.c.rounds; r++ {
		if err := nd.start(fmt.Sprintf("many-r%d", r)); err != nil {
			return err
		}
		profiled := make(chan struct{})
		if r == 1 && os.Getenv("BENCH_PROFILE") == "1" {
			go func() {
				defer close(profiled)
				nd.cpuProfile(b.path(fmt.Sprintf("cpu-many-r%d.pprof", r)), 20*time.Second)
			}()
		} else {
			close(profiled)
		}
		at, err := nd.seeding(n, 30*time.Minute)
		if err != nil {
			return err
		}
		hwm, err := peakRSS(nd.serve.cmd.Process.Pid)
		if err != nil {
			return err
		}
		used, err := cpuSeconds(nd.serve.cmd.Process.Pid)
		if err != nil {
			return err
		}
		d := at.Sub(nd.serve.started)
		<-profiled
		// Idle: every torrent seeding, no peer: the CPU the node burns
		// doing nothing (its loops walking the torrents), a share of one
		// core over idleFor.
		before, err := cpuSeconds(nd.serve.cmd.Process.Pid)
		if err != nil {
			return err
		}
		idleAt := time.Now()
		time.Sleep(idleFor) // a span measured, not a wait for a condition
		after, err := cpuSeconds(nd.serve.cmd.Process.Pid)
		if err != nil {
			return err
		}
		idleShare := (after - before) / time.Since(idleAt).Seconds()
		stopAt := time.Now()
		if err := nd.stop(); err != nil {
			return err
		}
		ours.add(d.Seconds())
		rss.add(float64(hwm) / (1 << 20))
		stops.add(time.Since(stopAt).Seconds())
		cpu.add(used)
		idle.add(idleShare)
		fmt.Printf("ROUND %d many: start to all seeding %.2f s (CPU %.1f s), peak RSS %d MiB, idle CPU %.2f of a core over %v, SIGTERM to exit %.2f s\n",
			r, d.Seconds(), used, hwm>>20, idleShare, idleFor, time.Since(stopAt).Seconds())
	}
	var target, rssTarget series
	for range ours.v {
		target.add(manyTarget.Seconds())
		rssTarget.add(float64(manyRSSTarget >> 20))
	}
	result(fmt.Sprintf("start %d torrents after a clean stop, to all seeding", n), "s", &ours, "target", &target)
	result(fmt.Sprintf("peak RSS at all seeding, %d torrents", n), "MiB", &rss, "target", &rssTarget)
	fmt.Printf("RESULT CPU (user+sys) from start to all seeding, %d torrents | %s s [%s]\n", n, fmtNum(cpu.median()), &cpu)
	fmt.Printf("RESULT idle CPU after all seeding, %d torrents, share of one core over %v | %s [%s]\n", n, idleFor, fmtNum(idle.median()), &idle)
	fmt.Printf("RESULT SIGTERM to exit after the idle span, %d torrents | %s s [%s]\n", n, fmtNum(stops.median()), &stops)
	return nil
}

// cpuProfile saves a CPU profile of the running serve, taken from its
// /debug/pprof as soon as its HTTP server listens (BENCH_PROFILE=1).
func (n *node) cpuProfile(path string, d time.Duration) {
	if _, _, err := n.serve.waitLine(n.b.ctx, 0, time.Minute, func(l string) bool {
		return strings.Contains(l, `"http listening"`)
	}); err != nil {
		fmt.Println("profile:", err)
		return
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", n.http, int(d.Seconds()))
	if out, err := exec.CommandContext(n.b.ctx, "curl", "-sf", "-o", path, url).CombinedOutput(); err != nil {
		fmt.Printf("profile: curl %s: %v: %s\n", url, err, out)
		return
	}
	fmt.Println("PROFILE", path)
}

// cpuSeconds returns the CPU time (user+sys) a process used so far, from
// /proc/PID/stat (clock ticks of 1/100 s, Linux's USER_HZ).
func cpuSeconds(pid int) (float64, error) {
	t, err := statTimes(pid)
	if err != nil {
		return 0, err
	}
	return (t[0] + t[1]) / 100, nil
}

// peakRSS returns a process's peak resident set (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
