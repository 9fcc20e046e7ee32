// Package backoff is the one retry policy of archivd's background loops:
// exponential, bounded, jittered, and stopped by the loop's context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff yields the waits between attempts: Min, then doubling up to
// Max, each drawn uniformly from [d/2, d] so that many loops failing on
// the same fault (a database failover) do not retry in step. The zero
// value waits 100ms to 30s. Not safe for concurrent use: one per loop.
type Backoff struct {
	Min time.Duration
	Max time.Duration

	cur time.Duration
}

// Next is the wait before the next attempt; each call doubles the next.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = max(lo, 30*time.Second)
	}
	switch {
	case b.cur == 0:
		b.cur = lo
	default:
		b.cur = min(2*b.cur, hi)
	}
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

// Reset starts again from Min after a success.
func (b *Backoff) Reset() { b.cur = 0 }

// Failing reports whether the last attempt failed (Next was called since
// the last Reset).
func (b *Backoff) Failing() bool { return b.cur != 0 }

// Sleep waits d or until ctx ends, whichever is first; it returns
// ctx.Err() when the context ended.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
