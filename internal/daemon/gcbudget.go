package daemon

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// The first full reconcile of a large catalog builds the engine's whole
// state at once (about 4.6 KiB kept per torrent: 580 MB at 100,000). With
// the default GOGC the collector runs at every doubling of the heap and
// took a quarter of the start's CPU. Until the seeder has started, the
// heap may grow to five times the live heap (GOGC 400), bounded by a
// memory limit; then the settings in force before come back.
const (
	startGCPercent = 400
	// startMemLimit bounds the heap during the budget; it is lowered to
	// half the memory the process may use (RAM, or its cgroup's limit).
	startMemLimit = 1536 << 20
	// gcBudgetCheck: how often the live heap is compared with the limit.
	gcBudgetCheck = 200 * time.Millisecond
)

// gcBudget is the start's GC budget while it is in force.
type gcBudget struct {
	prevPercent int
	prevLimit   int64
	limit       int64
	begun       time.Time
	cycles      uint64
	stop        chan struct{} // closed by end
	ended       chan struct{} // closed once the settings are restored
	log         zerolog.Logger
}

// startGCBudget raises GOGC under a memory limit until end is called, or
// until the live heap passes half the limit (a catalog too large for the
// budget: near the limit the collector would run all the time). Nothing
// changes when the operator set GOGC or GOMEMLIMIT. end may be called
// more than once. ended is closed once the settings are back.
func startGCBudget(ctx context.Context, log zerolog.Logger) (end func(), ended <-chan struct{}) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		done := make(chan struct{})
		close(done)
		return func() {}, done
	}
	limit := int64(startMemLimit)
	if m := usableMemory(); m > 0 {
		limit = min(limit, m/2)
	}
	b := newGCBudget(ctx, limit, log)
	return b.end, b.ended
}

func newGCBudget(ctx context.Context, limit int64, log zerolog.Logger) *gcBudget {
	b := &gcBudget{limit: limit, begun: time.Now(), cycles: gcCycles(), stop: make(chan struct{}),
		ended: make(chan struct{}), log: log}
	b.prevLimit = debug.SetMemoryLimit(limit)
	b.prevPercent = debug.SetGCPercent(startGCPercent)
	go b.watch(ctx)
	return b
}

// end restores the settings (by the watcher, which owns them).
func (b *gcBudget) end() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.ended
}

func (b *gcBudget) watch(ctx context.Context) {
	t := time.NewTicker(gcBudgetCheck)
	defer t.Stop()
	why := "seeder started"
	for done := false; !done; {
		select {
		case <-b.stop:
			done = true
		case <-ctx.Done():
			why, done = "stopping", true
		case <-t.C:
			if live := liveHeap(); live > b.limit/2 {
				why, done = "live heap past half the limit: "+strconv.FormatInt(live>>20, 10)+" MiB", true
			}
		}
	}
	debug.SetGCPercent(b.prevPercent)
	debug.SetMemoryLimit(b.prevLimit)
	b.log.Info().Int("gc_percent", startGCPercent).Int64("limit_mib", b.limit>>20).Uint64("gc_cycles", gcCycles()-b.cycles).
		Int64("took_ms", time.Since(b.begun).Milliseconds()).Str("why", why).Msg("start GC budget ended")
	close(b.ended)
}

func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(min(s[0].Value.Uint64(), math.MaxInt64))
}

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// usableMemory is the memory the process may use: the machine's RAM, or
// less under a cgroup (v2) memory.max; 0 when unknown.
func usableMemory() int64 {
	var si syscall.Sysinfo_t
	var ram int64
	if syscall.Sysinfo(&si) == nil {
		ram = int64(si.Totalram) * int64(si.Unit)
	}
	if cg := cgroupMemoryMax(); cg > 0 && (ram == 0 || cg < ram) {
		return cg
	}
	return ram
}

// cgroupMemoryMax reads memory.max of the process's cgroup (v2); 0 when
// there is none or it is "max".
func cgroupMemoryMax() int64 {
	raw, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		path, ok := strings.CutPrefix(l, "0::")
		if !ok {
			continue
		}
		v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", path, "memory.max"))
		if err != nil {
			return 0
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil {
			return 0 // "max"
		}
		return n
	}
	return 0
}
