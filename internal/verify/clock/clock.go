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

// Fake is a clock that moves only when told to. In manual mode (NewFake)
// After's channel fires when Advance or Set passes its deadline; in auto
// mode (NewAutoFake) After(d) moves the clock forward by d and fires at
// once, so a rate-limited scrub of N bytes at R bytes/s "takes" N/R
// seconds of fake time and no real time.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a manual fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// NewAutoFake returns a fake clock set to t that advances when waited on.
func NewAutoFake(t time.Time) *Fake { return &Fake{now: t, auto: true} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the fake time to t and fires the waiters it passes.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	f.waiters = kept
}

// Waiters is the number of pending After calls: a test waits for it to
// know a goroutine has reached its wait before advancing.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// After returns a channel that fires once the fake time reaches now+d.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.auto && d > 0 {
		f.now = f.now.Add(d)
		d = 0
	}
	at := f.now.Add(d)
	if !at.After(f.now) {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, waiter{at: at, ch: ch})
	return ch
}

// Offset is a real clock shifted by a fixed duration: a process that must
// see another's leases as expired without waiting for them uses it.
type Offset struct{ By time.Duration }

// Now returns the shifted wall time.
func (o Offset) Now() time.Time { return time.Now().Add(o.By) }

// After is time.After.
func (Offset) After(d time.Duration) <-chan time.Time { return time.After(d) }
