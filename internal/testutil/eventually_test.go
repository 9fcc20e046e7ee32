package testutil

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestEventuallyReturnsOnceConditionHolds(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	Eventually(t, 10*time.Second, "three checks", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Fatalf("checked %d times, want 3", n.Load())
	}
}

// failRecorder records Fatalf instead of ending the test.
type failRecorder struct {
	testing.TB
	msg string
}

func (f *failRecorder) Helper() {}
func (f *failRecorder) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestEventuallyFailsNamingWhatItAwaited(t *testing.T) {
	t.Parallel()
	rec := &failRecorder{TB: t}
	defer func() {
		if r := recover(); r != rec || rec.msg == "" {
			t.Fatalf("Eventually did not fail: %v", r)
		}
	}()
	Eventually(rec, 30*time.Millisecond, "never", func() bool { return false })
}
