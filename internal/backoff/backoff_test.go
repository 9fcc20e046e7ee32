package backoff

import (
	"context"
	"testing"
	"time"
)

func TestNextDoublesWithinBoundsAndJitters(t *testing.T) {
	t.Parallel()
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		w *= time.Millisecond
		d := b.Next()
		if d < w/2 || d > w {
			t.Fatalf("attempt %d: wait %v, want in [%v, %v]", i, d, w/2, w)
		}
	}
	if !b.Failing() {
		t.Fatal("Failing() = false after Next")
	}
	b.Reset()
	if b.Failing() {
		t.Fatal("Failing() = true after Reset")
	}
	if d := b.Next(); d > 100*time.Millisecond {
		t.Fatalf("after Reset: wait %v, want at most Min", d)
	}
}

func TestJitterSpreadsWaits(t *testing.T) {
	t.Parallel()
	seen := map[time.Duration]bool{}
	for range 50 {
		b := Backoff{Min: time.Second, Max: time.Second}
		seen[b.Next()] = true
	}
	if len(seen) < 10 {
		t.Fatalf("50 first waits took only %d distinct values: no jitter", len(seen))
	}
}

func TestZeroValueHasSaneBounds(t *testing.T) {
	t.Parallel()
	var b Backoff
	for range 20 {
		if d := b.Next(); d <= 0 || d > 30*time.Second {
			t.Fatalf("zero-value wait %v out of (0, 30s]", d)
		}
	}
}

func TestSleepStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err == nil {
		t.Fatal("Sleep on a cancelled context returned nil")
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
