package daemon

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// gcPercent reads GOGC as the runtime has it (setting it back at once).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestGCBudgetRaisesGOGCUnderALimitUntilEndedThenRestores(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	prevPercent, prevLimit := gcPercent(), debug.SetMemoryLimit(-1)
	b := newGCBudget(context.Background(), 1<<40, zerolog.Nop())
	if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != startGCPercent || l != 1<<40 {
		t.Fatalf("during the budget: GOGC %d, limit %d; want %d, %d", p, l, startGCPercent, int64(1<<40))
	}
	b.end()
	b.end() // a second end does nothing
	if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != prevPercent || l != prevLimit {
		t.Fatalf("after the budget: GOGC %d, limit %d; want %d, %d", p, l, prevPercent, prevLimit)
	}
}

func TestGCBudgetEndsEarlyWhenTheLiveHeapPassesHalfItsLimit(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	prevPercent := gcPercent()
	keep := make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, 64<<10)) // 4 MiB live
	}
	b := newGCBudget(context.Background(), 4<<20, zerolog.Nop())
	runtime.GC()
	select {
	case <-b.ended:
	case <-time.After(30 * time.Second):
		t.Fatal("budget not ended with a live heap past half its 4 MiB limit")
	}
	runtime.KeepAlive(keep)
	if p := gcPercent(); p != prevPercent {
		t.Fatalf("after an early end: GOGC %d, want %d", p, prevPercent)
	}
	b.end() // still safe
}

func TestGCBudgetLeavesTheOperatorsGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "150")
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)
	end, _ := startGCBudget(context.Background(), zerolog.Nop())
	if p := gcPercent(); p != 150 {
		t.Fatalf("GOGC set by the operator: the budget changed it to %d", p)
	}
	end()
	if p := gcPercent(); p != 150 {
		t.Fatalf("GOGC set by the operator: %d after the budget", p)
	}
}
