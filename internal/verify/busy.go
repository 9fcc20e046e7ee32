package verify

import (
	"sync"
	"time"
)

// While the seeder uploads faster than BusyUpload, scheduled and manual
// scrubs of the daemon read at most BusyRate: seeding keeps its CPU and
// disk (bench/operator scrubseed), and scrubs still move on (16 MiB/s is
// 1.4 TB a day).
const (
	BusyUpload = 1 << 20  // bytes/s
	BusyRate   = 16 << 20 // bytes/s
	busySample = 500 * time.Millisecond
)

// busyGauge says whether a counter of uploaded bytes grew faster than
// BusyUpload over the last sample period (at least busySample long).
type busyGauge struct {
	uploaded func() int64
	now      func() time.Time

	mu     sync.Mutex
	at     time.Time
	last   int64
	isBusy bool
}

func newBusyGauge(uploaded func() int64, now func() time.Time) *busyGauge {
	return &busyGauge{uploaded: uploaded, now: now, at: now(), last: uploaded()}
}

func (g *busyGauge) busy() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if dt := now.Sub(g.at); dt >= busySample {
		n := g.uploaded()
		g.isBusy = float64(n-g.last)/dt.Seconds() > BusyUpload
		g.at, g.last = now, n
	}
	return g.isBusy
}
