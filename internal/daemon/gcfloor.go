package daemon

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// After the start, the collector keeps at least gcFloorBytes of headroom
// over the live heap: GOGC is raised after each collection so that the
// next one comes when the heap has grown by max(live, floor). A node
// seeding a few large torrents has a small live heap (tens of MiB) and
// the engine allocates a fresh 16 KiB buffer for every block a peer asks
// for: at GOGC 100 the collector ran a dozen times a second and took 15%
// of the seeder's CPU (BENCHMARKS, "A GC floor, scrub buffers sized to
// the data, JIT off"). A node
// whose live heap is above the floor (about 55,000 torrents and more) is
// not changed. Nothing changes when the operator set GOGC or GOMEMLIMIT.
const (
	gcFloorBytes = 256 << 20
	// gcFloorMaxPercent bounds GOGC for a nearly empty heap.
	gcFloorMaxPercent = 10000
)

// floorOwner is set while a runGCFloor of this process keeps the floor:
// GOGC is the process's, and a second floor would take the first one's
// setting for the base it restores.
var floorOwner atomic.Bool

// gcFloor retunes GOGC after every collection while it runs (see
// gcFloorBytes). The tuning happens in a cleanup the runtime runs after
// each cycle that found the previous sentinel unreachable, so a live
// heap that grows at once is followed within one cycle.
type gcFloor struct {
	floor int64
	base  int // GOGC below the floor: the setting in force when it began

	mu      sync.Mutex
	stopped bool
	percent int // last set
}

// gcFloorSize is the floor for this machine: gcFloorBytes, or a sixteenth
// of the memory the process may use if that is smaller; 0 (off) when the
// operator set GOGC or GOMEMLIMIT.
func gcFloorSize() int64 {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	floor := int64(gcFloorBytes)
	if m := usableMemory(); m > 0 {
		floor = min(floor, m/16)
	}
	return floor
}

// runGCFloor keeps the floor from after begin is closed (the start's GC
// budget ended: it owns GOGC until then) until ctx ends, then sets GOGC
// back to what it was. floor 0 does nothing.
func runGCFloor(ctx context.Context, begin <-chan struct{}, floor int64) {
	if floor <= 0 || !floorOwner.CompareAndSwap(false, true) {
		return // off, or another daemon in this process (tests) keeps it
	}
	defer floorOwner.Store(false)
	select {
	case <-begin:
	case <-ctx.Done():
		return
	}
	f := startGCFloor(floor)
	<-ctx.Done()
	f.stop()
}

func startGCFloor(floor int64) *gcFloor {
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	f := &gcFloor{floor: floor, base: base, percent: base}
	if base < 0 {
		f.stopped = true // collection turned off: left so
		return f
	}
	f.tune()
	f.arm()
	return f
}

// gcSentinel is allocated for each cycle and dropped at once; its cleanup
// runs after the collection that freed it. It holds a pointer so that it
// is never one of the tiny allocations packed into a shared block.
type gcSentinel struct {
	_ *int
	_ [16]byte
}

func (f *gcFloor) arm() {
	runtime.AddCleanup(new(gcSentinel), func(f *gcFloor) {
		if f.tune() {
			f.arm()
		}
	}, f)
}

// tune sets GOGC for the live heap of the last collection and reports
// whether the floor still runs.
func (f *gcFloor) tune() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	p := floorPercent(liveHeap(), f.floor, f.base)
	if p != f.percent {
		debug.SetGCPercent(p)
		f.percent = p
	}
	return true
}

// floorPercent is the GOGC that lets a heap of live bytes grow by at least
// floor before the next collection, and never less than base.
func floorPercent(live, floor int64, base int) int {
	top := max(base, gcFloorMaxPercent)
	if live <= 0 {
		return top
	}
	return int(min(max(floor*100/live, int64(base)), int64(top)))
}

// stop ends the tuning and sets GOGC back.
func (f *gcFloor) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	f.stopped = true
	debug.SetGCPercent(f.base)
}

// current is the GOGC the floor last set.
func (f *gcFloor) current() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.percent
}
