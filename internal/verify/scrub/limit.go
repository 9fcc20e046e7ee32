package scrub

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/archivd/archivd/internal/verify/clock"
)

// Limiter caps the read rate in bytes per second. It charges each block
// before it is read: the caller waits until the block's share of time has
// come, so over any run the rate stays at or below the limit whatever the
// block size. Safe for concurrent use.
type Limiter struct {
	mu    sync.Mutex
	clk   clock.Clock
	rate  float64   // bytes per second
	next  time.Time // when the bytes charged so far are paid off
	burst time.Duration
}

// NewLimiter returns a limiter of bytesPerSec; nil when bytesPerSec <= 0
// (unlimited). A nil *Limiter is valid and never waits.
func NewLimiter(bytesPerSec int64, clk clock.Clock) *Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	// A short burst lets idle time between runs be used, but not enough
	// to break the limit by more than a fraction over a second.
	return &Limiter{clk: clk, rate: float64(bytesPerSec), burst: 50 * time.Millisecond}
}

// WaitN waits until n more bytes may be read.
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	if l == nil || n <= 0 {
		return nil
	}
	l.mu.Lock()
	now := l.clk.Now()
	if floor := now.Add(-l.burst); l.next.Before(floor) {
		l.next = floor
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	wait := l.next.Sub(now)
	l.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	select {
	case <-l.clk.After(wait):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("scrub: wait for read rate limit: %w", ctx.Err())
	}
}
