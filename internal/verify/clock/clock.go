// Package clock is the time source of verification: the scheduler, leases
// and the rate limiter read time through it so tests can drive windows and
// rates without sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Fake is a clock that advances only when told to, or by itself when
// something waits on it: After(d) moves the clock forward by d and fires at
// once, so a rate-limited scrub of N bytes at R bytes/s "takes" N/R seconds
// of fake time and no real time.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Set moves the fake time to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

// After advances the clock by d (if positive) and returns a fired channel.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	if d > 0 {
		f.now = f.now.Add(d)
	}
	ch <- f.now
	f.mu.Unlock()
	return ch
}

// Offset is a real clock shifted by a fixed duration: a process that must
// see another's leases as expired without waiting for them uses it.
type Offset struct{ By time.Duration }

// Now returns the shifted wall time.
func (o Offset) Now() time.Time { return time.Now().Add(o.By) }

// After is time.After.
func (Offset) After(d time.Duration) <-chan time.Time { return time.After(d) }
