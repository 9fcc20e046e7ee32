package daemon

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestFloorPercentKeepsTheFloorOverTheLiveHeap(t *testing.T) {
	for _, c := range []struct {
		live, floor int64
		base, want  int
	}{
		{live: 16 << 20, floor: 256 << 20, base: 100, want: 1600}, // grows by 256 MiB
		{live: 256 << 20, floor: 256 << 20, base: 100, want: 100},
		{live: 1 << 30, floor: 256 << 20, base: 100, want: 100}, // above the floor: the base
		{live: 1 << 20, floor: 256 << 20, base: 100, want: gcFloorMaxPercent},
		{live: 0, floor: 256 << 20, base: 100, want: gcFloorMaxPercent},
		{live: 64 << 20, floor: 256 << 20, base: 500, want: 500},
	} {
		if got := floorPercent(c.live, c.floor, c.base); got != c.want {
			t.Errorf("floorPercent(live %d MiB, floor %d MiB, base %d) = %d, want %d", c.live>>20, c.floor>>20, c.base, got, c.want)
		}
	}
}

// waitPercent waits for the floor to settle on a GOGC that want accepts,
// collecting meanwhile (the tuning follows each collection).
func waitPercent(t *testing.T, f *gcFloor, what string, want func(int) bool) {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	for {
		runtime.GC()
		if p := f.current(); want(p) && gcPercent() == p {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: GOGC %d (floor set %d)", what, gcPercent(), f.current())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGCFloorFollowsTheLiveHeapAfterEachCollectionAndStops(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	const floor = 512 << 20
	f := startGCFloor(floor)
	waitPercent(t, f, "small heap", func(p int) bool { return p > 100 })

	// A live heap above the floor: back to the base after a collection.
	keep := make([][]byte, 0, 640)
	for range 640 {
		keep = append(keep, make([]byte, 1<<20))
	}
	waitPercent(t, f, "live heap of 640 MiB over a 512 MiB floor", func(p int) bool { return p == 100 })
	runtime.KeepAlive(keep)
	keep = nil

	// Small again: raised again.
	waitPercent(t, f, "heap freed", func(p int) bool { return p > 100 })

	f.stop()
	f.stop() // a second stop does nothing
	if p := gcPercent(); p != 100 {
		t.Fatalf("after stop: GOGC %d, want the base 100", p)
	}
	for range 3 {
		runtime.GC()
	}
	time.Sleep(50 * time.Millisecond)
	if p := gcPercent(); p != 100 {
		t.Fatalf("a collection after stop set GOGC %d", p)
	}
}

func TestGCFloorWaitsForTheStartBudgetAndLeavesTheOperatorsGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	ctx, cancel := context.WithCancel(context.Background())
	begin := make(chan struct{})
	done := make(chan struct{})
	go func() { runGCFloor(ctx, begin, 512<<20); close(done) }()
	for range 3 {
		runtime.GC()
	}
	time.Sleep(50 * time.Millisecond)
	if p := gcPercent(); p != 100 {
		t.Fatalf("before the budget ended: GOGC %d", p)
	}
	close(begin)
	end := time.Now().Add(30 * time.Second)
	for gcPercent() == 100 {
		if time.Now().After(end) {
			t.Fatal("the floor never raised GOGC after the budget ended")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	// A second daemon in the process (tests run several) leaves it to the
	// first: its base would be the first one's raised setting.
	second := make(chan struct{})
	go func() { runGCFloor(context.Background(), begin, 512<<20); close(second) }()
	select {
	case <-second:
	case <-time.After(30 * time.Second):
		t.Fatal("a second floor in the process did not return at once")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("runGCFloor did not return when its context ended")
	}
	if p := gcPercent(); p != 100 {
		t.Fatalf("after the context ended: GOGC %d", p)
	}

	t.Setenv("GOGC", "150")
	if n := gcFloorSize(); n != 0 {
		t.Fatalf("GOGC set by the operator: floor %d, want 0 (off)", n)
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "4GiB")
	if n := gcFloorSize(); n != 0 {
		t.Fatalf("GOMEMLIMIT set by the operator: floor %d, want 0 (off)", n)
	}
}
