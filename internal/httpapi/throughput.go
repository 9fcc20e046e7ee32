package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Sample is one throughput point: average rates since the previous sample.
type Sample struct {
	At          time.Time `json:"at"`
	UploadBps   float64   `json:"upload_bytes_per_second"`
	DownloadBps float64   `json:"download_bytes_per_second"`
	UploadedB   int64     `json:"uploaded_bytes"`
	DownloadedB int64     `json:"downloaded_bytes"`
}

// ring keeps the last n samples of the transfer totals in memory.
type ring struct {
	mu       sync.Mutex
	buf      []Sample
	next     int
	full     bool
	havePrev bool
	prev     Sample
}

func newRing(n int) *ring {
	if n <= 0 {
		n = 360 // an hour at the default 10s
	}
	return &ring{buf: make([]Sample, n)}
}

// add records the totals at t; the first call only sets the baseline.
func (r *ring) add(t time.Time, up, down int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := Sample{At: t, UploadedB: up, DownloadedB: down}
	if r.havePrev {
		if dt := t.Sub(r.prev.At).Seconds(); dt > 0 {
			cur.UploadBps = float64(max(up-r.prev.UploadedB, 0)) / dt
			cur.DownloadBps = float64(max(down-r.prev.DownloadedB, 0)) / dt
		}
		r.buf[r.next] = cur
		r.next = (r.next + 1) % len(r.buf)
		r.full = r.full || r.next == 0
	}
	r.prev, r.havePrev = cur, true
}

// samples returns the kept samples, oldest first.
func (r *ring) samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]Sample(nil), r.buf[:r.next]...)
	}
	return append(append([]Sample(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

// sample records Live.Transfer every SampleInterval until ctx ends.
func (s *Server) sample(ctx context.Context) {
	tick := time.NewTicker(s.sampleInterval())
	defer tick.Stop()
	for {
		if s.o.Live != nil {
			up, down := s.o.Live.Transfer()
			s.ring.add(time.Now(), up, down)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Server) handleThroughput(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"interval_seconds": s.sampleInterval().Seconds(),
		"samples":          s.ring.samples(),
	})
}

func (s *Server) sampleInterval() time.Duration {
	if s.o.SampleInterval <= 0 {
		return 10 * time.Second
	}
	return s.o.SampleInterval
}
