package verify

import (
	"testing"
	"time"
)

// The gauge turns busy when the counter grew faster than BusyUpload over
// at least busySample, and idle again when it stops growing; between
// samples it keeps its answer.
func TestBusyGaugeFollowsTheUploadRate(t *testing.T) {
	t.Parallel()
	now := time.Unix(1e9, 0)
	var up int64
	g := newBusyGauge(func() int64 { return up }, func() time.Time { return now })
	step := func(d time.Duration, bytes int64) bool {
		now = now.Add(d)
		up += bytes
		return g.busy()
	}
	if step(time.Second, BusyUpload/2) {
		t.Fatal("busy at half the threshold")
	}
	if !step(time.Second, 2*BusyUpload) {
		t.Fatal("not busy at twice the threshold")
	}
	if !step(busySample/10, 0) {
		t.Fatal("answer changed before a sample period passed")
	}
	if step(time.Second, 0) {
		t.Fatal("still busy after a second without upload")
	}
}

// The daemon's service watches the seeder's upload counter when given one
// (and its scrubs then ask it); RunOffline's engine never does.
func TestServiceWatchesUploads(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Uploaded = func() int64 { return 0 }
	s, err := NewService(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.e.busyFunc() == nil || s.e.busyLim == nil {
		t.Fatal("service with an upload counter: scrubs do not slow down while seeding")
	}
	e, err := newEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.busyFunc() != nil {
		t.Fatal("offline engine watches uploads")
	}
}
