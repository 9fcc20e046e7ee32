// Package heartbeat is the daemon's own liveness: every long-lived loop
// (and a probe of the torrent engine) registers a Beat and says when it
// works and when it waits. The systemd watchdog is pinged while no loop
// has been working without a beat for longer than its bound, so a hung
// loop or a deadlocked engine gets the daemon restarted, while a
// database outage (loops waiting in backoff) does not.
package heartbeat

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Monitor holds the beats of one daemon. A nil *Monitor registers nil
// beats, whose methods do nothing (tests and CLI use of the packages).
type Monitor struct {
	mu    sync.Mutex
	beats []*Beat
}

// New returns an empty monitor.
func New() *Monitor { return &Monitor{} }

// Beat is one loop's heartbeat.
type Beat struct {
	name   string
	within time.Duration
	// busySince is the unix-nano time of the last Beat while working;
	// 0 = waiting (a loop waiting on a timer, a channel or its backoff is
	// alive by definition).
	busySince atomic.Int64
}

// Register adds a loop that may work for at most within between beats.
// It starts waiting. A name registered before gets its beat back (a loop
// restarted, as the verify service is on reload).
func (m *Monitor) Register(name string, within time.Duration) *Beat {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.beats {
		if b.name == name {
			b.within = within
			b.Wait()
			return b
		}
	}
	b := &Beat{name: name, within: within}
	m.beats = append(m.beats, b)
	return b
}

// Beat says the loop is working, as of now.
func (b *Beat) Beat() {
	if b != nil {
		b.busySince.Store(time.Now().UnixNano())
	}
}

// Wait says the loop waits (for a timer, a channel, a backoff).
func (b *Beat) Wait() {
	if b != nil {
		b.busySince.Store(0)
	}
}

// Stale returns the names of loops that have been working without a beat
// for longer than their bound, sorted; empty when all are alive.
func (m *Monitor) Stale(now time.Time) []string {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, b := range m.beats {
		if since := b.busySince.Load(); since != 0 && now.Sub(time.Unix(0, since)) > b.within {
			out = append(out, b.name)
		}
	}
	sort.Strings(out)
	return out
}
